/// A failure in MongoDB's terms — `{ok: 0, errmsg, code, codeName}` on the wire. One type for
/// every layer from storage up: the storage layer calls it ``StorageError``, the command layer
/// `CommandError`, and neither converts the other.
public struct MongoError: Error, Sendable, CustomStringConvertible {
    /// The numeric code.
    public let code: Int32
    /// The code name (`NamespaceExists`…).
    public let codeName: String
    /// The message for `errmsg`.
    public let message: String

    /// Creates an error from a known code.
    public init(_ code: ErrorCode, _ message: String) {
        self.code = code.rawValue
        self.codeName = code.name
        self.message = message
    }

    /// Creates an error from any code (for errors passed through from lower layers).
    public init(code: Int32, codeName: String, message: String) {
        self.code = code
        self.codeName = codeName
        self.message = message
    }

    public var description: String { "\(codeName)(\(code)): \(message)" }
}

/// An error raised by a storage backend.
public typealias StorageError = MongoError

/// The codes the storage layer raises are the shared ``ErrorCode`` table.
public typealias StorageErrorCode = ErrorCode
