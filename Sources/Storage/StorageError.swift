/// The codes the storage layer raises are the shared ``ErrorCode`` table.
public typealias StorageErrorCode = ErrorCode

/// An error from a storage backend, already in MongoDB's terms.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    /// The numeric code.
    public let code: Int32
    /// The code name (`NamespaceExists`…).
    public let codeName: String
    /// The message for `errmsg`.
    public let message: String

    /// Creates an error from a known code.
    public init(_ code: StorageErrorCode, _ message: String) {
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
