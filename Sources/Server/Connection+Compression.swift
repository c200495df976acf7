import BSON
import Compression
import NIOCore
import Wire

/// OP_COMPRESSED on a connection: a compressed request is inflated before it is parsed, and its
/// reply goes back compressed with the same compressor, unless the command is one the
/// specification keeps uncompressed (handshake, authentication). Uncompressed requests get
/// uncompressed replies, whatever the handshake negotiated, as on mongod.
extension Connection {
    /// The frame to parse and the compressor its reply must use: an OP_COMPRESSED is inflated (or
    /// refused with a ``WireProtocolError``, which closes the connection), anything else passes.
    func unwrap(_ frame: consuming WireFrame) throws(WireProtocolError) -> (frame: WireFrame, compressor: MessageCompressor?) {
        guard frame.header.opCode == .compressed else { return (frame, nil) }
        let (inflated, compressor) = try compression.inflate(frame, allocator: channel.channel.allocator)
        return (inflated, compressor)
    }

    /// For an OP_COMPRESSED frame, when the server caps bytes in flight: waits until the inflated
    /// message (its declared size, bounded by the message size limit) and its parsed copy fit in
    /// ``inflatedBytes``, and returns the claim to hold until the reply is written. Without it a
    /// few kilobytes of compressed zeros from many connections could each become a 48 MB
    /// allocation that `--maxIncomingBytesInFlight` never saw.
    func reserveInflation(for frame: borrowing WireFrame) async -> IncomingByteBudget.Reservation? {
        guard frame.header.opCode == .compressed, let budget = inflatedBytes,
              let declared = frame.body.getInteger(at: frame.body.readerIndex + 4, endianness: .little, as: Int32.self),
              declared > 0 else { return nil }
        let bytes = min(Int(declared), compression.maxMessageLength)
        return await budget.reserve(bytes.multipliedReportingOverflow(by: 2).partialValue)
    }

    /// `reply` (an encoded message) as it goes on the wire: compressed with `compressor` unless
    /// there is none or `request`'s command keeps its reply uncompressed.
    func wireReply(_ reply: ByteBuffer, to request: WireRequest, compressor: MessageCompressor?) -> ByteBuffer {
        guard let compressor else { return reply }
        if let name = Connection.commandName(request), !WireCompression.mayCompressReply(to: name) { return reply }
        let deflated = WireCompression.deflate(reply, with: compressor, allocator: channel.channel.allocator)
        // 2012: OP_COMPRESSED (deflate hands back a frame it could not read unchanged)
        if deflated.getInteger(at: deflated.readerIndex + 12, endianness: .little, as: Int32.self) == 2012 {
            counters.compression.compressed(
                id: compressor.rawValue, bodyBytes: reply.readableBytes - Connection.messageHeaderBytes,
                compressedBytes: deflated.readableBytes - Connection.compressedHeaderBytes)
        }
        return deflated
    }

    /// The standard message header: length, request id, response to, op code.
    static let messageHeaderBytes = 16
    /// An OP_COMPRESSED's headers: the standard 16 bytes, then original op code (4), uncompressed
    /// size (4) and compressor id (1).
    static let compressedHeaderBytes = 25

    /// The command a request runs (the body's first key), when there is one.
    static func commandName(_ request: WireRequest) -> String? {
        switch request {
        case .msg(let msg): return msg.body.elements.first(where: { _ in true })?.key
        case .query(let query): return (try? query.command())?.document.elements.first(where: { _ in true })?.key
        case .rejected, .unsupported: return nil
        }
    }
}
