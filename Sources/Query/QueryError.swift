@_exported import MongoErrors

/// An error in a filter, projection, sort or update: the shared ``MongoError`` (codes from the
/// ``ErrorCode`` table below this module), so the command layer returns it unchanged.
public typealias QueryError = MongoError

extension MongoError {
    /// Code 2, BadValue.
    public static func badValue(_ message: String) -> MongoError { MongoError(.badValue, message) }

    /// Code 9, FailedToParse.
    public static func failedToParse(_ message: String) -> MongoError { MongoError(.failedToParse, message) }

    /// Code 14, TypeMismatch.
    public static func typeMismatch(_ message: String) -> MongoError { MongoError(.typeMismatch, message) }

    /// Code 28, PathNotViable.
    public static func pathNotViable(_ message: String) -> MongoError { MongoError(.pathNotViable, message) }

    /// Code 40, ConflictingUpdateOperators.
    public static func conflictingUpdate(_ message: String) -> MongoError { MongoError(.conflictingUpdateOperators, message) }

    /// Code 56, EmptyFieldName.
    public static func emptyFieldName(_ message: String) -> MongoError { MongoError(.emptyFieldName, message) }

    /// Code 66, ImmutableField.
    public static func immutableField(_ message: String) -> MongoError { MongoError(.immutableField, message) }
}
