import BSON
import NIOCore
import Wire

/// Writes OP_MSG replies straight into a `ByteBuffer`, copying stored document bytes once and
/// building no intermediate `BSONDocument` for cursor batches.
enum RawReply {
    /// Appends `{cursor: {<batchKey>: [docs…], id, ns}, ok: 1.0}` as an OP_MSG answering `responseTo`.
    static func writeCursor(
        batchKey: String, documents: ArraySlice<BSONDocument>, cursorId: Int64, ns: String,
        requestID: Int32, responseTo: Int32, to buffer: inout ByteBuffer
    ) {
        let payload = documents.reduce(0) { $0 + $1.bytes.count + 8 }
        buffer.reserveCapacity(minimumWritableBytes: payload + 128 + ns.utf8.count)
        let start = buffer.writerIndex
        MessageHeader(messageLength: 0, requestID: requestID, responseTo: responseTo, opCode: .msg)
            .write(to: &buffer)
        buffer.writeInteger(UInt32(0), endianness: .little)
        buffer.writeInteger(UInt8(0))
        let outer = beginDocument(&buffer)
        buffer.writeInteger(BSONType.document.rawValue)
        writeCString("cursor", &buffer)
        let cursor = beginDocument(&buffer)
        buffer.writeInteger(BSONType.array.rawValue)
        writeCString(batchKey, &buffer)
        let array = beginDocument(&buffer)
        for (index, document) in documents.enumerated() {
            buffer.writeInteger(BSONType.document.rawValue)
            writeCString(String(index), &buffer)
            buffer.writeBytes(document.bytes)
        }
        endDocument(array, &buffer)
        buffer.writeInteger(BSONType.int64.rawValue)
        writeCString("id", &buffer)
        buffer.writeInteger(cursorId, endianness: .little)
        buffer.writeInteger(BSONType.string.rawValue)
        writeCString("ns", &buffer)
        buffer.writeInteger(Int32(ns.utf8.count + 1), endianness: .little)
        writeCString(ns, &buffer)
        endDocument(cursor, &buffer)
        buffer.writeInteger(BSONType.double.rawValue)
        writeCString("ok", &buffer)
        buffer.writeInteger((1.0 as Double).bitPattern, endianness: .little)
        endDocument(outer, &buffer)
        buffer.setInteger(Int32(buffer.writerIndex - start), at: start, endianness: .little)
    }

    private static func beginDocument(_ buffer: inout ByteBuffer) -> Int {
        let at = buffer.writerIndex
        buffer.writeInteger(Int32(0), endianness: .little)
        return at
    }

    private static func endDocument(_ at: Int, _ buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(0))
        buffer.setInteger(Int32(buffer.writerIndex - at), at: at, endianness: .little)
    }

    private static func writeCString(_ string: String, _ buffer: inout ByteBuffer) {
        buffer.writeString(string)
        buffer.writeInteger(UInt8(0))
    }
}
