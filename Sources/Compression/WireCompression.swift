import NIOCore
import Wire

/// OP_COMPRESSED on a server connection: inflates compressed requests into the frames they wrap
/// and compresses replies with the compressor the request used.
///
/// Inflation never trusts the envelope: the compressor must be one this server has enabled, the
/// declared `uncompressedSize` must be 0...(limit − 16) before a byte is allocated, and the output
/// is bounded to exactly that size (a bomb stops at the declared size and is refused, as is data
/// that inflates short). Every refusal is a ``WireProtocolError`` of kind
/// ``WireProtocolError/Kind/invalidCompressedMessage``: the connection closes with its reason logged.
public struct WireCompression: Sendable {
    /// The compressors this server accepts and offers (`--networkMessageCompressors`), in its order
    /// of preference. Empty when compression is disabled.
    public let enabled: [MessageCompressor]
    /// The largest message accepted, header included; bounds the inflated message too.
    public let maxMessageLength: Int

    /// Commands whose replies are never compressed (the OP_COMPRESSED specification's list: the
    /// handshake and the authentication commands).
    public static let uncompressedCommands: Set<String> = [
        "hello", "isMaster", "ismaster", "saslStart", "saslContinue", "getnonce", "authenticate",
        "createUser", "updateUser", "copydbSaslStart", "copydbgetnonce", "copydb",
    ]

    /// Creates the policy for a server offering `enabled`.
    public init(enabled: [MessageCompressor] = MessageCompressor.defaultList, maxMessageLength: Int = WireFrameDecoder.defaultMaxMessageLength) {
        self.enabled = enabled
        self.maxMessageLength = maxMessageLength
    }

    /// Whether the reply to `commandName` may be compressed.
    public static func mayCompressReply(to commandName: String) -> Bool {
        !uncompressedCommands.contains(commandName)
    }

    /// The compressor with wire id `id`, if this server accepts it. `noop` is accepted whenever
    /// compression is enabled at all.
    public func accepted(id: UInt8) -> MessageCompressor? {
        guard let compressor = MessageCompressor(rawValue: id) else { return nil }
        if enabled.contains(compressor) || (compressor == .noop && !enabled.isEmpty) { return compressor }
        return nil
    }

    /// Inflates an OP_COMPRESSED frame into the frame it wraps (same requestID and responseTo) and
    /// says which compressor it used.
    public func inflate(_ frame: WireFrame, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(WireProtocolError) -> (frame: WireFrame, compressor: MessageCompressor) {
        let envelope = try OpCompressed(frame: frame)
        guard let compressor = accepted(id: envelope.compressorID) else {
            throw WireProtocolError(
                .invalidCompressedMessage,
                "compressor id \(envelope.compressorID) is unknown or not enabled (enabled: \(enabled.map(\.name).joined(separator: ",")))")
        }
        guard envelope.originalOpCode != .compressed else {
            throw WireProtocolError(.invalidCompressedMessage, "OP_COMPRESSED wraps another OP_COMPRESSED")
        }
        let size = Int(envelope.uncompressedSize)
        guard size >= 0 else {
            throw WireProtocolError(.invalidCompressedMessage, "OP_COMPRESSED uncompressedSize is negative (\(size))")
        }
        guard size <= maxMessageLength &- MessageHeader.size else {
            throw WireProtocolError(
                .invalidCompressedMessage,
                "OP_COMPRESSED uncompressedSize \(size) would make a message larger than the maximum of \(maxMessageLength) bytes")
        }
        var body = allocator.buffer(capacity: size)
        var failure: WireProtocolError?
        body.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { room in
            let output = UnsafeMutableRawBufferPointer(rebasing: room.prefix(size))
            do throws(WireProtocolError) {
                try envelope.compressed.withUnsafeReadableBytes { input throws(WireProtocolError) in
                    try compressor.decompress(input, into: output)
                }
                return size
            } catch {
                failure = error
                return 0
            }
        }
        if let failure { throw failure }
        let header = MessageHeader(
            messageLength: Int32(truncatingIfNeeded: MessageHeader.size &+ size), requestID: frame.header.requestID,
            responseTo: frame.header.responseTo, opCode: envelope.originalOpCode)
        return (WireFrame(header: header, body: body), compressor)
    }

    /// Wraps an encoded message (header and body, as written for the wire) in an OP_COMPRESSED
    /// that keeps its requestID and responseTo. A buffer too short to hold a header comes back
    /// unchanged.
    public static func deflate(_ message: ByteBuffer, with compressor: MessageCompressor, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var reader = message
        guard let header = MessageHeader.read(from: &reader) else { return message }
        let size = reader.readableBytes
        var output = allocator.buffer(capacity: MessageHeader.size &+ OpCompressed.envelopeSize &+ compressor.maxCompressedLength(size))
        OpCompressed.write(
            requestID: header.requestID, responseTo: header.responseTo, originalOpCode: header.opCode,
            uncompressedSize: Int32(truncatingIfNeeded: size), compressorID: compressor.rawValue, to: &output
        ) { buffer in
            let bound = compressor.maxCompressedLength(size)
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { room in
                reader.withUnsafeReadableBytes { input in
                    compressor.compress(input, into: UnsafeMutableRawBufferPointer(rebasing: room.prefix(bound)))
                }
            }
        }
        return output
    }
}
