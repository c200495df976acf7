import NIOCore

/// An OP_COMPRESSED (opcode 2012): another message's body, compressed.
///
/// Layout after the 16-byte header: `int32 originalOpcode`, `int32 uncompressedSize` (the original
/// message without its header), `uint8 compressorId`, then the compressed bytes. This type only
/// reads and writes that envelope; the codecs live in the `Compression` module, so Wire links no
/// compression library.
public struct OpCompressed: Sendable, Hashable {
    /// Bytes between the header and the compressed data.
    public static let envelopeSize = 4 + 4 + 1

    /// The opcode of the wrapped message.
    public var originalOpCode: OpCode
    /// The size of the wrapped message's body (its header excluded), as declared by the sender.
    /// Not trusted: may be negative or huge; ``Compression`` checks it before inflating.
    public var uncompressedSize: Int32
    /// The compressor id: 0 noop, 1 snappy, 2 zlib, 3 zstd (others are refused when inflating).
    public var compressorID: UInt8
    /// The compressed bytes (a slice of the frame: nothing is copied).
    public var compressed: ByteBuffer

    /// Creates an envelope.
    public init(originalOpCode: OpCode, uncompressedSize: Int32, compressorID: UInt8, compressed: ByteBuffer) {
        self.originalOpCode = originalOpCode
        self.uncompressedSize = uncompressedSize
        self.compressorID = compressorID
        self.compressed = compressed
    }

    /// Reads the envelope of the OP_COMPRESSED in `frame`. Throws when the frame is not an
    /// OP_COMPRESSED or is too short for the envelope.
    public init(frame: WireFrame) throws(WireProtocolError) {
        guard frame.header.opCode == .compressed else {
            throw WireProtocolError(.unexpectedOpCode, "expected OP_COMPRESSED, got \(frame.header.opCode)")
        }
        var body = frame.body
        let original = try body.readWireInt32("OP_COMPRESSED originalOpcode")
        let size = try body.readWireInt32("OP_COMPRESSED uncompressedSize")
        guard let id = body.readInteger(as: UInt8.self) else {
            throw WireProtocolError(.truncated, "message ended before OP_COMPRESSED compressorId")
        }
        self.init(originalOpCode: OpCode(rawValue: original), uncompressedSize: size, compressorID: id, compressed: body)
    }

    /// Appends a header and this envelope to `buffer`, with the compressed bytes produced by
    /// `writeCompressed` (which appends them and must not touch what is already there). The
    /// header's messageLength is set from what was written.
    public static func write(
        requestID: Int32, responseTo: Int32, originalOpCode: OpCode, uncompressedSize: Int32, compressorID: UInt8,
        to buffer: inout ByteBuffer, _ writeCompressed: (inout ByteBuffer) -> Void
    ) {
        let start = buffer.writerIndex
        MessageHeader(messageLength: 0, requestID: requestID, responseTo: responseTo, opCode: .compressed)
            .write(to: &buffer)
        buffer.writeInteger(originalOpCode.rawValue, endianness: .little)
        buffer.writeInteger(uncompressedSize, endianness: .little)
        buffer.writeInteger(compressorID)
        writeCompressed(&buffer)
        buffer.setInteger(Int32(truncatingIfNeeded: buffer.writerIndex - start), at: start, endianness: .little)
    }
}
