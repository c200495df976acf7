import BSON
import Commands
import Compression
import NIOCore
import Server
import Wire

/// The framing target: the input is what a client wrote on one connection, taken through
/// everything the server does with it before a command runs, and nothing after (no dispatch, no
/// storage; the wire target covers those at a hundredth of the speed):
///
/// - ``WireFrameAssembler`` fed in reads of varying sizes and in one read must emit the same frames,
///   and so must `WireFrameDecoder` (the client side's decoder, which reads a server's replies);
/// - an OP_COMPRESSED is inflated by `WireCompression` (snappy, zlib, zstd, noop, bounded output);
///   what inflates is deflated again with the same compressor and must inflate back to the same bytes;
/// - `WireRequest.parse` (OP_MSG with checksums and kind-1 sequences, OP_QUERY, BSON validation),
///   then the `CommandRequest` the connection builds; an OP_REPLY is parsed as the CLI's client does;
/// - every parsed message is encoded again and must parse back to an equal message, and the
///   reply to a rejected request is framed as `Connection` frames it.
///
/// As on a connection, a framing error ends the input: later frames are never parsed.
public enum FrameFuzzHarness {
    /// Frames looked at per input (a 64 KiB input can hold thousands of 16-byte frames).
    static let maxFrames = 64

    /// Runs one input (libFuzzer's callback).
    public static func run(_ data: UnsafeBufferPointer<UInt8>) {
        run(Array(data))
    }

    /// Runs one input (libFuzzer's callback, the replay tool and the regression test).
    public static func run(_ bytes: [UInt8]) {
        let frames = WireFuzzHarness.assemble(bytes)
        if !sameFrames(frames, assembleInOneRead(bytes)) {
            fail("the assembler emits different frames for one read and for split reads", bytes)
        }
        if !sameFrames(frames, decodeAll(bytes)) {
            fail("WireFrameDecoder and WireFrameAssembler disagree", bytes)
        }
        for frame in frames.prefix(maxFrames) {
            guard parse(frame) else { break }
        }
    }

    /// Parses one frame as the connection does; false when the connection would close.
    static func parse(_ frame: WireFrame) -> Bool {
        var plain = frame
        if frame.header.opCode == .compressed {
            guard let (inflated, compressor) = try? WireFuzzHarness.compression.inflate(frame) else { return false }
            checkDeflateRoundTrip(inflated, compressor: compressor)
            plain = inflated
        }
        if plain.header.opCode == .reply {
            checkReply(plain)
            return false
        }
        let request: WireRequest
        do {
            request = try WireRequest.parse(plain)
        } catch {
            return false
        }
        switch request {
        case .msg(let msg):
            _ = try? CommandRequest(message: msg)
            _ = try? msg.mergedBody()
            let again = reparse(msg.encoded(requestID: frame.header.requestID, responseTo: frame.header.responseTo))
            guard case .msg(let back)? = again, back == msg else { fail("an OP_MSG does not parse back after encoding", plain) }
        case .query(let query):
            if query.isCommand {
                guard let command = try? query.command() else { fail("an accepted OP_QUERY command does not unwrap", plain) }
                _ = try? CommandRequest(query: command)
            }
            var buffer = ByteBuffer()
            query.write(requestID: frame.header.requestID, to: &buffer)
            guard case .query(let back)? = reparse(buffer), back == query else {
                fail("an OP_QUERY does not parse back after encoding", plain)
            }
        case .rejected(let rejection):
            let reply = CommandDispatcher.errorReply(
                CommandError(code: rejection.code, codeName: rejection.codeName, message: rejection.error.message))
            FuzzEngine.checkReply(reply, for: "(rejected request)")
            var buffer = ByteBuffer()
            if rejection.legacy {
                OpReply(commandReply: reply).write(requestID: 1, responseTo: frame.header.requestID, to: &buffer)
            } else {
                OpMsg.writeReply(reply, requestID: 1, responseTo: frame.header.requestID, to: &buffer)
            }
            guard frames(in: buffer).count == 1 else { fail("an error reply is not one frame", plain) }
        case .unsupported:
            return false
        }
        return true
    }

    /// An OP_REPLY as a client reads it: what parses must encode and parse back the same.
    static func checkReply(_ frame: WireFrame) {
        guard let reply = try? OpReply(frame: frame) else { return }
        let buffer = reply.encoded(requestID: frame.header.requestID, responseTo: frame.header.responseTo)
        guard let again = frames(in: buffer).first, (try? OpReply(frame: again)) == reply else {
            fail("an OP_REPLY does not parse back after encoding", frame)
        }
    }

    /// Deflates an inflated request again with its compressor: it must inflate to the same bytes.
    static func checkDeflateRoundTrip(_ inflated: WireFrame, compressor: MessageCompressor) {
        var message = ByteBuffer()
        inflated.write(to: &message)
        let deflated = WireCompression.deflate(message, with: compressor)
        guard let envelope = frames(in: deflated).first,
              let (back, _) = try? WireFuzzHarness.compression.inflate(envelope),
              back.header.opCode == inflated.header.opCode,
              back.body.readableBytesView.elementsEqual(inflated.body.readableBytesView)
        else {
            fail("a \(compressor) message does not survive deflate and inflate", inflated)
        }
    }

    /// The request in an encoded message (nil when it does not frame or parse).
    static func reparse(_ buffer: ByteBuffer) -> WireRequest? {
        guard let frame = frames(in: buffer).first else { return nil }
        return try? WireRequest.parse(frame)
    }

    /// The frames the assembler emits for `buffer` in one read.
    static func frames(in buffer: ByteBuffer) -> [WireFrame] {
        assembleInOneRead(Array(buffer.readableBytesView))
    }

    /// The frames of `bytes` fed to a fresh assembler as one read, up to the first framing error.
    static func assembleInOneRead(_ bytes: [UInt8]) -> [WireFrame] {
        var frames: [WireFrame] = []
        var assembler = WireFrameAssembler()
        let allocator = ByteBufferAllocator()
        var buffer = allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        try? assembler.feed(buffer, allocator: allocator) { frames.append($0) }
        return frames
    }

    /// The frames `WireFrameDecoder` finds in `bytes`, up to the first error.
    static func decodeAll(_ bytes: [UInt8]) -> [WireFrame] {
        var decoder = WireFrameDecoder()
        var buffer = ByteBuffer(bytes: bytes)
        var frames: [WireFrame] = []
        while let frame = try? decoder.decode(buffer: &buffer) { frames.append(frame) }
        return frames
    }

    /// Same headers and same body bytes, in order.
    static func sameFrames(_ a: [WireFrame], _ b: [WireFrame]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { x, y in
            x.header == y.header && x.body.readableBytesView.elementsEqual(y.body.readableBytesView)
        }
    }

    static func fail(_ message: String, _ frame: WireFrame) -> Never {
        fail(message, Array(frame.body.readableBytesView))
    }

    /// The oracle: stop the run so libFuzzer saves the input.
    static func fail(_ message: String, _ bytes: [UInt8]) -> Never {
        fatalError("fuzz frames: \(message); bytes \(bytes.prefix(64).map { String($0, radix: 16) })")
    }
}
