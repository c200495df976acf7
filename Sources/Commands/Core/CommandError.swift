import BSON
import Storage

/// A command failure, answered as `{ok: 0, errmsg, code, codeName}`.
public struct CommandError: Error, Sendable, CustomStringConvertible {
    /// The numeric code.
    public let code: Int32
    /// The code name.
    public let codeName: String
    /// The human-readable message (`errmsg`).
    public let message: String

    /// Creates an error with a known code.
    public init(_ code: ErrorCode, _ message: String) {
        self.code = code.rawValue
        self.codeName = code.name
        self.message = message
    }

    /// Creates an error with any code (passed through from a lower layer).
    public init(code: Int32, codeName: String, message: String) {
        self.code = code
        self.codeName = codeName
        self.message = message
    }

    public var description: String { "\(codeName)(\(code)): \(message)" }

    /// A required field is missing.
    public static func missingField(_ field: String, in command: String) -> CommandError {
        CommandError(.location40414, "BSON field '\(command).\(field)' is missing but a required field")
    }

    /// A field has the wrong BSON type.
    public static func wrongType(_ field: String, in command: String, expected: String, got: BSONType) -> CommandError {
        CommandError(.typeMismatch, "BSON field '\(command).\(field)' is the wrong type '\(got.alias)', expected type '\(expected)'")
    }
}

