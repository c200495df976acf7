import BSON
import NIOCore

extension OpMsg {
    /// Section kind bytes.
    enum SectionKind: UInt8 {
        case body = 0
        case documentSequence = 1
    }

    /// Parses and validates the OP_MSG in `frame`.
    ///
    /// Checks, in order: the opcode; unknown required flag bits; the checksum, when present, over
    /// the whole message minus its last four bytes; then the sections: exactly one kind-0 body,
    /// kind-1 sequences whose documents fill their declared size exactly, no section or document
    /// past the end, every document valid BSON, no repeated sequence name.
    public init(frame: WireFrame) throws(WireProtocolError) {
        guard frame.header.opCode == .msg else {
            throw WireProtocolError(.unexpectedOpCode, "expected OP_MSG, got \(frame.header.opCode)")
        }
        var buffer = frame.body
        let flags = Flags(rawValue: try buffer.readWireUInt32("OP_MSG flagBits"))
        let unknown = flags.intersection(.requiredMask).subtracting(.knownRequired)
        guard unknown.isEmpty else {
            let hex = String(unknown.rawValue, radix: 16)
            throw WireProtocolError(.unknownRequiredFlags, "OP_MSG sets unknown required flag bits 0x\(hex)")
        }
        if flags.contains(.checksumPresent) {
            try Self.verifyChecksum(frame: frame)
            buffer.moveWriterIndex(to: buffer.writerIndex - 4)
        }
        var body: BSONDocument?
        var sawBody = false
        // The first document that fails BSON validation; the sections after it are still cut,
        // so a framing fault anywhere closes the connection before any error reply is sent.
        var invalid: WireProtocolError?
        var sequences: [DocumentSequence] = []
        while buffer.readableBytes > 0 {
            guard let kindByte = buffer.readInteger(as: UInt8.self) else { break }
            switch SectionKind(rawValue: kindByte) {
            case .body:
                let document = try Self.readDocument(&buffer, "OP_MSG body section", invalid: &invalid)
                guard !sawBody else {
                    throw WireProtocolError(.duplicateBody, "OP_MSG has more than one kind-0 body section")
                }
                sawBody = true
                body = document
            case .documentSequence:
                let sequence = try Self.readDocumentSequence(&buffer, invalid: &invalid)
                guard !sequences.contains(where: { $0.identifier == sequence.identifier }) else {
                    throw WireProtocolError(
                        .duplicateIdentifier, "OP_MSG repeats document sequence '\(sequence.identifier)'"
                    )
                }
                sequences.append(sequence)
            case nil:
                throw WireProtocolError(.unknownSectionKind, "OP_MSG has unknown section kind \(kindByte)")
            }
        }
        guard sawBody else {
            throw WireProtocolError(.missingBody, "OP_MSG has no kind-0 body section")
        }
        if let invalid { throw invalid }
        guard let body else { throw WireProtocolError(.missingBody, "OP_MSG has no kind-0 body section") }
        self.init(flags: flags, body: body, documentSequences: sequences)
    }

    /// Reads a kind-1 section after its kind byte.
    private static func readDocumentSequence(
        _ buffer: inout ByteBuffer, invalid: inout WireProtocolError?
    ) throws(WireProtocolError) -> DocumentSequence {
        guard let size = buffer.getInteger(at: buffer.readerIndex, endianness: .little, as: Int32.self) else {
            throw WireProtocolError(
                .sectionOverrun, "OP_MSG document sequence size runs past the end of the message"
            )
        }
        // At least the size itself and an identifier's terminating zero.
        guard size >= 5 else {
            throw WireProtocolError(.invalidDocumentSequence, "OP_MSG document sequence declares size \(size)")
        }
        guard Int(size) <= buffer.readableBytes, var section = buffer.readSlice(length: Int(size)) else {
            throw WireProtocolError(
                .sectionOverrun,
                "OP_MSG document sequence declares \(size) bytes but only \(buffer.readableBytes) remain"
            )
        }
        section.moveReaderIndex(forwardBy: 4)
        let identifier = try section.readWireCString("OP_MSG document sequence identifier")
        guard !identifier.isEmpty else {
            throw WireProtocolError(.invalidDocumentSequence, "OP_MSG document sequence has an empty identifier")
        }
        var documents: [BSONDocument] = []
        while section.readableBytes > 0 {
            let what = "document \(documents.count) of OP_MSG sequence '\(identifier)'"
            if let d = try readDocument(&section, what, overrun: .invalidDocumentSequence, invalid: &invalid) {
                documents.append(d)
            }
        }
        return DocumentSequence(identifier: identifier, documents: documents)
    }

    /// Reads one document; a validation failure (not a framing one) is recorded in `invalid`
    /// (the first one wins) and gives nil, with the reader past the document.
    private static func readDocument(
        _ buffer: inout ByteBuffer, _ what: String, overrun: WireProtocolError.Kind = .sectionOverrun,
        invalid: inout WireProtocolError?
    ) throws(WireProtocolError) -> BSONDocument? {
        do {
            return try buffer.readWireDocument(what, overrun: overrun)
        } catch {
            guard error.kind == .invalidBSON else { throw error }
            if invalid == nil { invalid = error }
            return nil
        }
    }

    /// Checks the trailing CRC-32C of `frame` against the header and body before it.
    private static func verifyChecksum(frame: WireFrame) throws(WireProtocolError) {
        let body = frame.body
        // flagBits plus the checksum itself.
        guard body.readableBytes >= 8 else {
            throw WireProtocolError(.truncated, "OP_MSG with checksumPresent is too short to hold a checksum")
        }
        let checksumIndex = body.writerIndex - 4
        guard
            let sent = body.getInteger(at: checksumIndex, endianness: .little, as: UInt32.self),
            let covered = body.getSlice(at: body.readerIndex, length: body.readableBytes - 4)
        else {
            throw WireProtocolError(.truncated, "OP_MSG checksum could not be read")
        }
        var header = ByteBuffer()
        header.reserveCapacity(MessageHeader.size)
        frame.header.write(to: &header)
        var crc = CRC32C()
        crc.update(header)
        crc.update(covered)
        let computed = crc.value
        guard computed == sent else {
            let hex = { (v: UInt32) in "0x" + String(v, radix: 16) }
            throw WireProtocolError(
                .checksumMismatch, "OP_MSG checksum \(hex(sent)) does not match the computed \(hex(computed))"
            )
        }
    }
}
