import BSON
import Commands
import Compression
import NIOCore
import Server
import Wire

/// The bytes target: the input is what a client wrote on one connection. It goes through the
/// server's own path: ``WireFrameAssembler`` (cut into reads of varying sizes, so frames arrive
/// whole, split and coalesced) → `WireRequest.parse` (OP_MSG / OP_QUERY, BSON validation) → the
/// `CommandRequest` the connection builds → `CommandDispatcher` → the SQLite store → reply framing.
/// As on a connection, a protocol error ends the input: frames after it are never answered.
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
        await FuzzEngine.shared.session { context, dispatcher in
            for frame in frames {
                guard await answer(frame, context: context, dispatcher: dispatcher) else { break }
            }
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

    /// Answers one frame as `Connection` does; false when the connection would close.
    static func answer(_ frame: WireFrame, context: CommandContext, dispatcher: CommandDispatcher) async -> Bool {
        let requestID = frame.header.requestID
        let request: WireRequest
        do {
            // An OP_COMPRESSED is inflated first, as `Connection` does (the size checks and the
            // bounded codecs are fuzzed here too).
            let plain = frame.header.opCode == .compressed ? try WireCompression().inflate(frame).frame : frame
            request = try WireRequest.parse(plain)
        } catch {
            return false
        }
        var buffer = ByteBufferAllocator().buffer(capacity: 256)
        switch request {
        case .msg(let msg):
            let reply = await dispatch(context: context, dispatcher: dispatcher) { () throws(CommandError) in
                try CommandRequest(message: msg)
            }
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
            let reply = await dispatch(context: context, dispatcher: dispatcher) { () throws(CommandError) in
                try CommandRequest(query: command)
            }
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
        return true
    }

    /// Builds the request and dispatches it; a malformed request becomes an error reply (checked too).
    static func dispatch(
        context: CommandContext, dispatcher: CommandDispatcher,
        _ makeRequest: () throws(CommandError) -> CommandRequest
    ) async -> BSONDocument {
        let reply: BSONDocument
        let name: String
        do {
            let request = try makeRequest()
            name = request.name
            reply = await dispatcher.dispatch(request, context: context)
        } catch {
            name = "(malformed request)"
            reply = CommandDispatcher.errorReply(error)
        }
        FuzzEngine.checkReply(reply, for: name)
        return reply
    }
}
