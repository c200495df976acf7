import BSON

/// An OP_MSG (opcode 2013): flag bits, one body document and any number of document sequences.
///
/// Parse one from a frame with ``init(frame:)``; write one with ``write(requestID:responseTo:to:)``
/// or, for a server reply, ``writeReply(_:requestID:responseTo:to:)``.
public struct OpMsg: Sendable, Hashable {
    /// OP_MSG flag bits.
    ///
    /// Bits 0–15 are "required": a receiver must reject a message with a required bit it does not
    /// know. Bits 16–31 are optional and ignored when unknown.
    public struct Flags: OptionSet, Sendable, Hashable {
        /// The raw bit field.
        public let rawValue: UInt32
        /// Wraps a raw bit field.
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// Bit 0: a CRC-32C of the message trails the last section.
        public static let checksumPresent = Flags(rawValue: 1 << 0)
        /// Bit 1: the sender will not wait for a reply (or, in a reply, more replies follow).
        public static let moreToCome = Flags(rawValue: 1 << 1)
        /// Bit 16: the client accepts several replies to this request (exhaust cursors).
        public static let exhaustAllowed = Flags(rawValue: 1 << 16)

        /// The required bits (0–15) this implementation understands.
        public static let knownRequired: Flags = [.checksumPresent, .moreToCome]
        /// Mask of all required bits (0–15).
        public static let requiredMask = Flags(rawValue: 0xFFFF)
    }

    /// A kind-1 section: a named sequence of documents, equivalent to an array field of the body.
    public struct DocumentSequence: Sendable, Hashable {
        /// The field this sequence stands for, e.g. `documents`, `updates`, `deletes`.
        public var identifier: String
        /// The documents, in order.
        public var documents: [BSONDocument]

        /// Creates a sequence named `identifier`.
        public init(identifier: String, documents: [BSONDocument]) {
            self.identifier = identifier
            self.documents = documents
        }
    }

    /// The flag bits as sent.
    public var flags: Flags
    /// The kind-0 section: the command or reply document.
    public var body: BSONDocument
    /// The kind-1 sections, in message order.
    public var documentSequences: [DocumentSequence]

    /// Creates a message.
    public init(flags: Flags = [], body: BSONDocument, documentSequences: [DocumentSequence] = []) {
        self.flags = flags
        self.body = body
        self.documentSequences = documentSequences
    }

    /// True when the sender expects no reply (`moreToCome`).
    public var moreToCome: Bool { flags.contains(.moreToCome) }
    /// True when a checksum was present (and was verified while parsing).
    public var checksumPresent: Bool { flags.contains(.checksumPresent) }
    /// True when the client allows exhaust replies.
    public var exhaustAllowed: Bool { flags.contains(.exhaustAllowed) }

    /// The documents of the sequence named `identifier`, if there is one.
    public func documents(for identifier: String) -> [BSONDocument]? {
        documentSequences.first { $0.identifier == identifier }?.documents
    }

    /// The body with each document sequence appended as an array field of that name, which is
    /// what the sequences mean. Throws ``WireProtocolError/Kind/duplicateIdentifier`` when the body
    /// already has a field of a sequence's name. Copies every document; prefer
    /// ``documents(for:)`` for large payloads.
    public func mergedBody() throws(WireProtocolError) -> BSONDocument {
        guard !documentSequences.isEmpty else { return body }
        var merged = body
        for sequence in documentSequences {
            guard !body.contains(sequence.identifier) else {
                throw WireProtocolError(
                    .duplicateIdentifier,
                    "OP_MSG body and a document sequence both define field '\(sequence.identifier)'"
                )
            }
            merged.append(sequence.identifier, .array(sequence.documents.map { .document($0) }))
        }
        return merged
    }
}
