/// A violation of the MongoDB wire protocol found in bytes received from a peer.
///
/// The message is meant for logs and for an `errmsg`; ``kind`` lets callers (and tests) react to the
/// class of problem without matching on text.
public struct WireProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The class of protocol violation.
    public enum Kind: Sendable, Hashable {
        /// A header's messageLength is below 16 or above the configured maximum.
        case invalidMessageLength
        /// The message ended before a field it must contain.
        case truncated
        /// Bytes remain after the last field of a message.
        case trailingBytes
        /// OP_MSG flag bits the peer requires us to understand but that we do not know.
        case unknownRequiredFlags
        /// An OP_MSG section kind other than 0 or 1.
        case unknownSectionKind
        /// An OP_MSG without a kind-0 body section.
        case missingBody
        /// An OP_MSG with more than one kind-0 body section.
        case duplicateBody
        /// A section (or a document in it) whose declared size runs past the end of the message.
        case sectionOverrun
        /// A kind-1 document sequence that is malformed or whose documents do not fill it exactly.
        case invalidDocumentSequence
        /// Two kind-1 sections, or a sequence and a body field, share a name.
        case duplicateIdentifier
        /// A BSON document whose length prefix is impossible (below 5): the framing is broken.
        case invalidDocument
        /// A document whose framing is sound but whose contents fail BSON validation (bad UTF-8,
        /// nesting past the depth limit, a malformed old-style binary...). Not fatal to the
        /// connection: ``WireRequest/parse(_:)`` turns it into ``WireRequest/rejected(_:)``.
        case invalidBSON
        /// A C string that is unterminated or not valid UTF-8.
        case invalidCString
        /// The OP_MSG CRC-32C does not match the message.
        case checksumMismatch
        /// An OP_QUERY namespace that is not `<db>.<collection>` or not a command namespace.
        case invalidNamespace
        /// A message whose opcode is not the one the parser expects.
        case unexpectedOpCode
        /// A well-formed OP_QUERY that carries no command.
        case invalidCommand
        /// A message started but no more of its bytes arrived within the read deadline.
        case readTimeout
        /// An OP_COMPRESSED that cannot be inflated: unknown or disabled compressor, a declared
        /// size that is negative or above the message limit, corrupt data, or output that does not
        /// have exactly the declared size (a decompression bomb stops at the declared size).
        case invalidCompressedMessage
    }

    /// The class of problem.
    public let kind: Kind
    /// What went wrong, in words fit for a log line.
    public let message: String

    /// Creates an error of `kind` described by `message`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The message, as logged.
    public var description: String { message }
}
