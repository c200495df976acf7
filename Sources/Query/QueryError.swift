/// An error in a filter, projection, sort or update, carrying MongoDB's numeric code and code name
/// so the command layer can return it to the client unchanged.
public struct QueryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// MongoDB's error code (2 BadValue, 9 FailedToParse, 14 TypeMismatch, 40, 66, …).
    public var code: Int32
    /// MongoDB's code name (`"BadValue"`, `"Location31254"`, …).
    public var codeName: String
    /// The human-readable message (`errmsg`).
    public var message: String

    /// Creates an error from its three parts.
    public init(code: Int32, codeName: String, message: String) {
        self.code = code
        self.codeName = codeName
        self.message = message
    }

    public var description: String { "\(codeName) (\(code)): \(message)" }

    /// Code 2, BadValue.
    public static func badValue(_ message: String) -> QueryError {
        QueryError(code: 2, codeName: "BadValue", message: message)
    }

    /// Code 9, FailedToParse.
    public static func failedToParse(_ message: String) -> QueryError {
        QueryError(code: 9, codeName: "FailedToParse", message: message)
    }

    /// Code 14, TypeMismatch.
    public static func typeMismatch(_ message: String) -> QueryError {
        QueryError(code: 14, codeName: "TypeMismatch", message: message)
    }

    /// Code 28, PathNotViable.
    public static func pathNotViable(_ message: String) -> QueryError {
        QueryError(code: 28, codeName: "PathNotViable", message: message)
    }

    /// Code 40, ConflictingUpdateOperators.
    public static func conflictingUpdate(_ message: String) -> QueryError {
        QueryError(code: 40, codeName: "ConflictingUpdateOperators", message: message)
    }

    /// Code 56, EmptyFieldName.
    public static func emptyFieldName(_ message: String) -> QueryError {
        QueryError(code: 56, codeName: "EmptyFieldName", message: message)
    }

    /// Code 66, ImmutableField.
    public static func immutableField(_ message: String) -> QueryError {
        QueryError(code: 66, codeName: "ImmutableField", message: message)
    }

    /// A numbered assertion without a name of its own (`Location<code>`).
    public static func location(_ code: Int32, _ message: String) -> QueryError {
        QueryError(code: code, codeName: "Location\(code)", message: message)
    }
}
