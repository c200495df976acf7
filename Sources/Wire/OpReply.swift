import BSON
import NIOCore

/// A legacy OP_REPLY (opcode 1): the answer to an OP_QUERY.
///
/// For a command the reply has responseFlags 0, cursorID 0, startingFrom 0 and one document.
public struct OpReply: Sendable, Hashable {
    /// OP_REPLY responseFlags bits.
    public struct Flags: OptionSet, Sendable, Hashable {
        /// The raw bit field.
        public let rawValue: Int32
        /// Wraps a raw bit field.
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// Bit 0: the requested cursor does not exist.
        public static let cursorNotFound = Flags(rawValue: 1 << 0)
        /// Bit 1: the query failed; the single document is `{$err: ...}`.
        public static let queryFailure = Flags(rawValue: 1 << 1)
        /// Bit 3: the server supports the AwaitData option.
        public static let awaitCapable = Flags(rawValue: 1 << 3)
    }

    /// The responseFlags.
    public var responseFlags: Flags
    /// The cursor id, 0 when there is no open cursor.
    public var cursorID: Int64
    /// The position of the first document in the cursor.
    public var startingFrom: Int32
    /// The documents returned; numberReturned is their count.
    public var documents: [BSONDocument]

    /// Creates a reply.
    public init(responseFlags: Flags = [], cursorID: Int64 = 0, startingFrom: Int32 = 0, documents: [BSONDocument]) {
        self.responseFlags = responseFlags
        self.cursorID = cursorID
        self.startingFrom = startingFrom
        self.documents = documents
    }

    /// A command reply: flags 0, cursor 0, starting from 0, the one document `document`.
    public init(commandReply document: BSONDocument) {
        self.init(documents: [document])
    }

    /// The value written as numberReturned.
    public var numberReturned: Int32 { Int32(truncatingIfNeeded: documents.count) }

    /// Appends this reply, header included, to `buffer`, answering the request `responseTo`.
    public func write(requestID: Int32, responseTo: Int32, to buffer: inout ByteBuffer) {
        let start = buffer.writerIndex
        MessageHeader(messageLength: 0, requestID: requestID, responseTo: responseTo, opCode: .reply)
            .write(to: &buffer)
        buffer.writeInteger(responseFlags.rawValue, endianness: .little)
        buffer.writeInteger(cursorID, endianness: .little)
        buffer.writeInteger(startingFrom, endianness: .little)
        buffer.writeInteger(numberReturned, endianness: .little)
        for document in documents { buffer.writeDocument(document) }
        buffer.setInteger(Int32(truncatingIfNeeded: buffer.writerIndex - start), at: start, endianness: .little)
    }

    /// Returns this reply, header included, as a new buffer.
    public func encoded(requestID: Int32, responseTo: Int32) -> ByteBuffer {
        var buffer = ByteBuffer()
        write(requestID: requestID, responseTo: responseTo, to: &buffer)
        return buffer
    }

    /// Parses the OP_REPLY in `frame` (for clients and tests). numberReturned must match the
    /// documents present and no bytes may follow them.
    public init(frame: WireFrame) throws(WireProtocolError) {
        guard frame.header.opCode == .reply else {
            throw WireProtocolError(.unexpectedOpCode, "expected OP_REPLY, got \(frame.header.opCode)")
        }
        var buffer = frame.body
        let flags = Flags(rawValue: try buffer.readWireInt32("OP_REPLY responseFlags"))
        let cursorID = try buffer.readWireInt64("OP_REPLY cursorID")
        let startingFrom = try buffer.readWireInt32("OP_REPLY startingFrom")
        let count = try buffer.readWireInt32("OP_REPLY numberReturned")
        guard count >= 0 else {
            throw WireProtocolError(.truncated, "OP_REPLY numberReturned is negative (\(count))")
        }
        var documents: [BSONDocument] = []
        for index in 0..<Int(count) {
            documents.append(try buffer.readWireDocument("OP_REPLY document \(index)", overrun: .truncated))
        }
        guard buffer.readableBytes == 0 else {
            throw WireProtocolError(.trailingBytes, "OP_REPLY has \(buffer.readableBytes) bytes after its documents")
        }
        self.init(responseFlags: flags, cursorID: cursorID, startingFrom: startingFrom, documents: documents)
    }
}
