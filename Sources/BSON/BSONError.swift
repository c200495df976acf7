/// An error raised while reading, validating or converting BSON.
public struct BSONError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, in words fit for an `errmsg`.
    public let message: String
    /// The byte offset of the offending element, when known.
    public let offset: Int?

    /// Creates an error with a message and, optionally, the offset where it was found.
    public init(_ message: String, offset: Int? = nil) {
        self.message = message
        self.offset = offset
    }

    public var description: String {
        if let offset { return "\(message) (at byte \(offset))" }
        return message
    }
}
