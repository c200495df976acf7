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
}
