import NIOCore

/// The 16-byte header that starts every MongoDB wire message: four little-endian int32s.
public struct MessageHeader: Sendable, Hashable {
    /// The size of an encoded header in bytes.
    public static let size = 16

    /// The total message size in bytes, header included.
    public var messageLength: Int32
    /// The sender's identifier for this message.
    public var requestID: Int32
    /// For replies, the `requestID` of the request being answered; 0 otherwise.
    public var responseTo: Int32
    /// The kind of message that follows the header.
    public var opCode: OpCode

    /// Creates a header from its four fields.
    public init(messageLength: Int32, requestID: Int32, responseTo: Int32, opCode: OpCode) {
        self.messageLength = messageLength
        self.requestID = requestID
        self.responseTo = responseTo
        self.opCode = opCode
    }

    /// Reads a header from the front of `buffer`, or returns nil (consuming nothing) when fewer than
    /// 16 bytes are readable. No field is checked here; see ``WireFrameDecoder``.
    public static func read(from buffer: inout ByteBuffer) -> MessageHeader? {
        guard buffer.readableBytes >= size else { return nil }
        let start = buffer.readerIndex
        guard
            let length = buffer.getInteger(at: start, endianness: .little, as: Int32.self),
            let requestID = buffer.getInteger(at: start + 4, endianness: .little, as: Int32.self),
            let responseTo = buffer.getInteger(at: start + 8, endianness: .little, as: Int32.self),
            let opCode = buffer.getInteger(at: start + 12, endianness: .little, as: Int32.self)
        else { return nil }
        buffer.moveReaderIndex(forwardBy: size)
        return MessageHeader(
            messageLength: length, requestID: requestID, responseTo: responseTo, opCode: OpCode(rawValue: opCode)
        )
    }

    /// Appends the 16 header bytes to `buffer`.
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(messageLength, endianness: .little)
        buffer.writeInteger(requestID, endianness: .little)
        buffer.writeInteger(responseTo, endianness: .little)
        buffer.writeInteger(opCode.rawValue, endianness: .little)
    }
}
