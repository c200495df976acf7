import BSON
import NIOCore

extension OpMsg {
    /// Appends this message, header included, to `buffer`.
    ///
    /// Writes the flags as given, the body as a kind-0 section, then each document sequence as a
    /// kind-1 section. When ``Flags/checksumPresent`` is set, a CRC-32C of everything written is
    /// appended. Identifiers must not contain a zero byte.
    public func write(requestID: Int32, responseTo: Int32, to buffer: inout ByteBuffer) {
        let start = buffer.writerIndex
        MessageHeader(messageLength: 0, requestID: requestID, responseTo: responseTo, opCode: .msg)
            .write(to: &buffer)
        buffer.writeInteger(flags.rawValue, endianness: .little)
        buffer.writeInteger(SectionKind.body.rawValue)
        buffer.writeDocument(body)
        for sequence in documentSequences {
            buffer.writeInteger(SectionKind.documentSequence.rawValue)
            let sizeIndex = buffer.writerIndex
            buffer.writeInteger(Int32(0), endianness: .little)
            buffer.writeWireCString(sequence.identifier)
            for document in sequence.documents { buffer.writeDocument(document) }
            let size = Int32(truncatingIfNeeded: buffer.writerIndex - sizeIndex)
            buffer.setInteger(size, at: sizeIndex, endianness: .little)
        }
        let checksum = flags.contains(.checksumPresent) ? 4 : 0
        let length = Int32(truncatingIfNeeded: buffer.writerIndex - start + checksum)
        buffer.setInteger(length, at: start, endianness: .little)
        if checksum != 0 {
            let offset = start - buffer.readerIndex
            let crc = buffer.withUnsafeReadableBytes { bytes in
                var crc = CRC32C()
                crc.update(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                return crc.value
            }
            buffer.writeInteger(crc, endianness: .little)
        }
    }

    /// Returns this message, header included, as a new buffer.
    public func encoded(requestID: Int32, responseTo: Int32) -> ByteBuffer {
        var buffer = ByteBuffer()
        write(requestID: requestID, responseTo: responseTo, to: &buffer)
        return buffer
    }

    /// Appends the OP_MSG a server sends in answer to a request: flags 0 and a single kind-0
    /// section holding `body`, with `responseTo` set to the request's `requestID`.
    public static func writeReply(
        _ body: BSONDocument, requestID: Int32, responseTo: Int32, to buffer: inout ByteBuffer
    ) {
        OpMsg(flags: [], body: body).write(requestID: requestID, responseTo: responseTo, to: &buffer)
    }
}
