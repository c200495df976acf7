import BSON
import Commands
import Compression
import NIOCore
import Server
import Wire

/// The bytes target: the input is what a client wrote on one connection. It goes through the
/// server's own path: ``WireFrameAssembler`` (cut into reads of varying sizes, so frames arrive
/// whole, split and coalesced) → OP_COMPRESSED inflated by `WireCompression` (snappy, zlib, zstd,
/// noop) → `WireRequest.parse` (OP_MSG / OP_QUERY, BSON validation) → the `CommandRequest` the
/// connection builds → `CommandDispatcher.execute` and the session changes it returns (handshake,
/// SASL conversations) → the SQLite store → reply framing, compressed with the request's compressor
/// as `Connection` does and inflated back to check it round-trips. As on a connection, a protocol
/// error ends the input: frames after it are never answered. The server's set-up (`--auth`, a
/// stored user, test commands) is the ``FuzzMode`` of the first frame's `responseTo`.
public enum WireFuzzHarness {
    /// The sizes of successive reads, cycled; covers one-byte dribbles and many frames per read.
    static let readSizes = [4096, 13, 1, 512, 3, 65536, 40]

    /// Runs one input (libFuzzer's callback and the regression test both call this).
    public static func run(_ data: UnsafeBufferPointer<UInt8>) {
        run(Array(data))
    }

    /// Runs one input from synchronous code (libFuzzer's callback, the replay tool).
    public static func run(_ bytes: [UInt8]) {
        _ = FuzzEngine.shared  // opened here, on the caller's thread, before the first input's task
        FuzzEngine.blocking { await runAsync(bytes) }
    }

    /// Runs one input (the regression test calls this: blocking a test's thread could starve the pool).
    public static func runAsync(_ bytes: [UInt8]) async {
        let frames = assemble(bytes)
        guard !frames.isEmpty else { return }
        let mode = FuzzMode.wire(bytes)
        await FuzzEngine.shared.session(mode) { context, dispatcher in
            if mode.rootUser { await FuzzEngine.shared.storeRootUser() }
            for frame in frames {
                guard await answer(frame, context: &context, dispatcher: dispatcher) else { break }
            }
            // Anything may have been written (or the root user stored): empty the store.
            return true
        }
    }

    /// The frames the assembler emits for `bytes`, up to the first framing error.
    static func assemble(_ bytes: [UInt8]) -> [WireFrame] {
        var frames: [WireFrame] = []
        var assembler = WireFrameAssembler()
        let allocator = ByteBufferAllocator()
        var offset = 0
        var read = 0
        do {
            while offset < bytes.count {
                let count = min(readSizes[read % readSizes.count], bytes.count - offset)
                var buffer = allocator.buffer(capacity: count)
                buffer.writeBytes(bytes[offset..<(offset + count)])
                try assembler.feed(buffer, allocator: allocator) { frames.append($0) }
                offset += count
                read += 1
            }
        } catch {
            // The connection closes here; frames emitted before the error were answered.
        }
        return frames
    }

    /// The server's OP_COMPRESSED policy (every compressor enabled, as by default).
    static let compression = WireCompression()

    /// Answers one frame as `Connection` does; false when the connection would close.
    static func answer(_ frame: WireFrame, context: inout CommandContext, dispatcher: CommandDispatcher) async -> Bool {
        let requestID = frame.header.requestID
        let wireBytes = Int(frame.header.messageLength)
        let request: WireRequest
        let compressor: MessageCompressor?
        do {
            // An OP_COMPRESSED is inflated first, as `Connection` does (the size checks and the
            // bounded codecs are fuzzed here too).
            if frame.header.opCode == .compressed {
                let inflated = try compression.inflate(frame)
                compressor = inflated.compressor
                request = try WireRequest.parse(inflated.frame)
            } else {
                compressor = nil
                request = try WireRequest.parse(frame)
            }
        } catch {
            return false
        }
        var buffer = ByteBufferAllocator().buffer(capacity: 256)
        switch request {
        case .msg(let msg):
            let wire = WireFacts(requestBytes: wireBytes, replyFramingBytes: msg.moreToCome ? nil : 21)
            let (reply, close) = await FuzzEngine.execute(
                { () throws(CommandError) in try CommandRequest(message: msg) }, context: &context, dispatcher: dispatcher, wire: wire)
            if close { return false }
            if msg.moreToCome { return true }
            OpMsg.writeReply(reply, requestID: 1, responseTo: requestID, to: &buffer)
        case .query(let query):
            guard query.isCommand else { return true }
            let command: OpQuery.Command
            do {
                command = try query.command()
            } catch {
                return false
            }
            let wire = WireFacts(requestBytes: wireBytes, replyFramingBytes: 36)
            let (reply, close) = await FuzzEngine.execute(
                { () throws(CommandError) in try CommandRequest(query: command) }, context: &context, dispatcher: dispatcher, wire: wire)
            if close { return false }
            OpReply(commandReply: reply).write(requestID: 1, responseTo: requestID, to: &buffer)
        case .rejected(let rejection):
            if rejection.moreToCome { return true }
            let reply = CommandDispatcher.errorReply(
                CommandError(code: rejection.code, codeName: rejection.codeName, message: rejection.error.message))
            FuzzEngine.checkReply(reply, for: "(rejected request)")
            if rejection.legacy {
                OpReply(commandReply: reply).write(requestID: 1, responseTo: requestID, to: &buffer)
            } else {
                OpMsg.writeReply(reply, requestID: 1, responseTo: requestID, to: &buffer)
            }
        case .unsupported:
            return false
        }
        if let compressor { checkCompressedReply(buffer, request: request, compressor: compressor) }
        return true
    }

    /// Compresses the reply as `Connection` does (unless its command keeps replies uncompressed)
    /// and inflates it back: the client must read exactly the bytes the server meant.
    static func checkCompressedReply(_ reply: ByteBuffer, request: WireRequest, compressor: MessageCompressor) {
        let name: String?
        switch request {
        case .msg(let msg): name = msg.body.keys.first
        case .query(let query): name = (try? query.command())?.document.keys.first
        case .rejected, .unsupported: name = nil
        }
        if let name, !WireCompression.mayCompressReply(to: name) { return }
        let deflated = WireCompression.deflate(reply, with: compressor)
        var reader = deflated
        var decoder = WireFrameDecoder()
        guard let frame = try? decoder.decode(buffer: &reader), reader.readableBytes == 0 else {
            fatalError("fuzz: a \(compressor) reply is not one frame")
        }
        do {
            let inflated = try compression.inflate(frame).frame
            var original = reply
            _ = MessageHeader.read(from: &original)
            guard inflated.body.readableBytesView.elementsEqual(original.readableBytesView) else {
                fatalError("fuzz: a \(compressor) reply does not inflate to the reply")
            }
        } catch {
            fatalError("fuzz: a \(compressor) reply does not inflate: \(error)")
        }
    }
}
