/// A failure in MongoDB's terms — `{ok: 0, errmsg, code, codeName}` on the wire. One type for
/// every layer: the query engine calls it `QueryError`, the storage layer `StorageError`, the
/// command layer `CommandError`, and none converts the other.
public struct MongoError: Error, Sendable, Hashable, CustomStringConvertible {
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

    /// Creates an error from any code (numbered assertions without a table entry, or errors
    /// passed through from elsewhere).
    public init(code: Int32, codeName: String, message: String) {
        self.code = code
        self.codeName = codeName
        self.message = message
    }

    public var description: String { "\(codeName)(\(code)): \(message)" }

    /// A numbered assertion without a name of its own (`Location<code>`).
    public static func location(_ code: Int32, _ message: String) -> MongoError {
        MongoError(code: code, codeName: "Location\(code)", message: message)
    }
}
