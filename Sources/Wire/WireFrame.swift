import NIOCore

/// One complete wire message, split into its header and the bytes after the header.
///
/// Produced by ``WireFrameDecoder``; the body has exactly `header.messageLength - 16` readable
/// bytes. Turn it into a request with ``WireRequest/parse(_:)``.
public struct WireFrame: Sendable, Hashable {
    /// The message header.
    public var header: MessageHeader
    /// Everything after the header.
    public var body: ByteBuffer
    /// The share of the ``IncomingByteBudget`` this frame holds, when it carries it itself (a frame
    /// that gets no reply: it is released when the frame is dropped). Not part of equality.
    public var reservation: IncomingByteBudget.Reservation?

    /// Creates a frame from a header and the bytes that follow it.
    public init(header: MessageHeader, body: ByteBuffer) {
        self.header = header
        self.body = body
    }

    /// Creates a frame whose header's messageLength is computed from `body`.
    public init(requestID: Int32, responseTo: Int32, opCode: OpCode, body: ByteBuffer) {
        let length = Int32(truncatingIfNeeded: MessageHeader.size + body.readableBytes)
        self.header = MessageHeader(messageLength: length, requestID: requestID, responseTo: responseTo, opCode: opCode)
        self.body = body
    }

    /// Appends the header and body bytes to `buffer`.
    public func write(to buffer: inout ByteBuffer) {
        header.write(to: &buffer)
        buffer.writeImmutableBuffer(body)
    }

    /// True when the peer expects no reply: an OP_MSG with the `moreToCome` flag bit (1 << 1).
    public var expectsNoReply: Bool {
        header.opCode == .msg && (body.getInteger(at: body.readerIndex, endianness: .little, as: UInt32.self) ?? 0) & 2 != 0
    }

    public static func == (lhs: WireFrame, rhs: WireFrame) -> Bool {
        lhs.header == rhs.header && lhs.body == rhs.body
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(header)
        hasher.combine(body)
    }
}
