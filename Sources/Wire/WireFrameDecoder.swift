import NIOCore

/// Splits a byte stream into ``WireFrame``s.
///
/// The server uses it through ``WireFrameAssembler`` / ``WireFrameHandler``; it also works as
/// `ByteToMessageHandler(WireFrameDecoder())`. The declared messageLength is never
/// trusted: as soon as its four bytes have arrived it is checked against 16 and
/// ``maxMessageLength``, and a bad value throws ``WireProtocolError`` before any body byte is
/// awaited or buffered. Incomplete frames wait for more bytes.
public struct WireFrameDecoder: NIOSingleStepByteToMessageDecoder {
    /// The decoder's output.
    public typealias InboundOut = WireFrame

    /// MongoDB's default `maxMessageSizeBytes`.
    public static let defaultMaxMessageLength = 48_000_000

    /// The largest messageLength accepted, header included.
    public let maxMessageLength: Int

    /// Creates a decoder accepting messages of up to `maxMessageLength` bytes.
    public init(maxMessageLength: Int = WireFrameDecoder.defaultMaxMessageLength) {
        self.maxMessageLength = maxMessageLength
    }

    /// The messageLength declared by the frame starting at `buffer`'s reader index, checked against
    /// 16 and ``maxMessageLength``; nil while fewer than four bytes are there.
    public func declaredLength(_ buffer: ByteBuffer) throws(WireProtocolError) -> Int? {
        guard let declared = buffer.getInteger(at: buffer.readerIndex, endianness: .little, as: Int32.self) else {
            return nil
        }
        let length = Int(declared)
        guard length >= MessageHeader.size else {
            throw WireProtocolError(
                .invalidMessageLength,
                "message length \(length) is smaller than the \(MessageHeader.size)-byte header"
            )
        }
        guard length <= maxMessageLength else {
            throw WireProtocolError(
                .invalidMessageLength,
                "message length \(length) exceeds the maximum of \(maxMessageLength) bytes"
            )
        }
        return length
    }

    /// Returns the next complete frame, or nil if more bytes are needed.
    public mutating func decode(buffer: inout ByteBuffer) throws -> WireFrame? {
        guard let length = try declaredLength(buffer) else { return nil }
        guard buffer.readableBytes >= length, var message = buffer.readSlice(length: length) else {
            // A valid length is known: make room for the whole frame once, instead of letting the
            // buffer double (and copy) its way up to a 48 MB insert.
            if buffer.writableBytes < length - buffer.readableBytes {
                buffer.reserveCapacity(minimumWritableBytes: length - buffer.readableBytes)
            }
            return nil
        }
        guard let header = MessageHeader.read(from: &message) else {
            throw WireProtocolError(.truncated, "message shorter than its header")
        }
        return WireFrame(header: header, body: message)
    }

    /// Like ``decode(buffer:)``. Bytes of an unfinished frame left at end of stream are not
    /// decoded: the peer closed mid-message and there is nothing to answer.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> WireFrame? {
        try decode(buffer: &buffer)
    }
}
