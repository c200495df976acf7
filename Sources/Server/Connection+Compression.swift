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

    /// `reply` (an encoded message) as it goes on the wire: compressed with `compressor` unless
    /// there is none or `request`'s command keeps its reply uncompressed.
    func wireReply(_ reply: ByteBuffer, to request: WireRequest, compressor: MessageCompressor?) -> ByteBuffer {
        guard let compressor else { return reply }
        if let name = Connection.commandName(request), !WireCompression.mayCompressReply(to: name) { return reply }
        return WireCompression.deflate(reply, with: compressor, allocator: channel.channel.allocator)
    }

    /// The command a request runs (the body's first key), when there is one.
    static func commandName(_ request: WireRequest) -> String? {
        switch request {
        case .msg(let msg): return msg.body.elements.first(where: { _ in true })?.key
        case .query(let query): return (try? query.command())?.document.elements.first(where: { _ in true })?.key
        case .rejected, .unsupported: return nil
        }
    }
}
