import BSON
import Commands
import NIOCore
import Storage
import Wire

/// Writing a cursor reply whose batch is deferred (GridFS chunks on SQLite): the OP_MSG framing and
/// the reply's own fields are written around the batch, and each chunk is assembled in place in the
/// outbound buffer — its payload read from the segment file straight into the buffer and verified
/// there (CRC-32C over the bytes that will be sent). One copy of every payload byte in user space
/// (the `pread`), where the buffered path made three (docs/performance.md, "Downloads").
extension Connection {
    /// The OP_MSG answering `responseTo` with `reply`. When a document fails to assemble (its
    /// checksum does not match, or its segment cannot be read: 301, counted and logged), the reply
    /// is that error instead, and no byte of the batch is sent.
    func writeDeferred(_ reply: DeferredCursorReply, responseTo: Int32, context: CommandContext) -> ByteBuffer {
        var buffer = spareReply.take(capacity: Connection.opMsgFraming + reply.byteCount, allocator: channel.channel.allocator)
        do {
            try Connection.writeDeferred(reply, requestID: nextReplyID(), responseTo: responseTo, to: &buffer)
            spareReply.keep(buffer)
            return buffer
        } catch {
            context.logger.error("data corruption detected: \(error)")
            let failure = CommandDispatcher.errorReply(error)
            buffer.clear()
            OpMsg.writeReply(failure, requestID: nextReplyID(), responseTo: responseTo, to: &buffer)
            return buffer
        }
    }

    /// Appends the OP_MSG (flags 0, one kind-0 section holding the spliced reply) to `buffer`.
    static func writeDeferred(
        _ reply: DeferredCursorReply, requestID: Int32, responseTo: Int32, to buffer: inout ByteBuffer
    ) throws {
        let length = opMsgFraming + reply.byteCount
        guard length <= Int(Int32.max) else { throw CommandError(.internalError, "cursor reply too large") }
        buffer.reserveCapacity(minimumWritableBytes: length)
        let start = buffer.writerIndex
        MessageHeader(messageLength: Int32(length), requestID: requestID, responseTo: responseTo, opCode: .msg)
            .write(to: &buffer)
        buffer.writeInteger(UInt32(0), endianness: .little)
        buffer.writeInteger(UInt8(0))
        buffer.writeBytes(reply.prefix)
        for (index, document) in reply.batch.documents.enumerated() {
            buffer.writeBytes(DeferredCursorReply.elementHeader(index))
            let count = document.byteCount
            try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
                try document.write(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<count]))
                return count
            }
        }
        buffer.writeInteger(UInt8(0))
        buffer.writeBytes(reply.suffix)
        guard buffer.writerIndex - start == length else {
            throw CommandError(.internalError, "cursor reply wrote \(buffer.writerIndex - start) of \(length) bytes")
        }
    }
}
