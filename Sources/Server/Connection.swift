import BSON
import Commands
import Compression
import Executors
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import Wire

/// One client connection: reads frames in order, runs each command, writes its reply.
/// A protocol error closes this connection only, after logging why.
///
/// The connection owns its ``ConnectionSession`` (inside its `CommandContext`): commands see it
/// read-only and return changes, which are applied here between commands. It counts bytes and
/// requests for `serverStatus.network` and registers itself for `currentOp`.
struct Connection {
    let channel: NIOAsyncChannel<WireFrame, ByteBuffer>
    /// Plain or TLS, decided by the pipeline before the first frame.
    let transport: ConnectionTransport
    let dispatcher: CommandDispatcher
    let hooks: ConnectionHooks
    let counters: ServerCounters
    /// OP_COMPRESSED: which compressors are accepted, and the size limit of inflated messages.
    let compression: WireCompression
    let logger: Logger
    /// How long a closing connection may take to deliver replies already handed to NIO.
    let drainLimit: TimeAmount
    let makeContext: @Sendable (ConnectionInfo, Logger) -> CommandContext
    /// Where requests may block (SQLite): the server's `BlockingExecutor`, when it has one.
    let executor: (any TaskExecutor)?
    /// When set (and `executor` too), the connection task runs on its event loop and answers the
    /// requests this policy calls short there; the others run on `executor`.
    let inlinePolicy: InlinePolicy?
    /// The server's cap on inflated OP_COMPRESSED bytes in flight (`--maxIncomingBytesInFlight`),
    /// separate from the frame handler's budget (see ``reserveInflation(for:)``).
    var inflatedBytes: IncomingByteBudget? = nil
    /// The last download batch's outbound buffer, reused for the next one (``SpareReplyBuffer``).
    let spareReply = SpareReplyBuffer()

    func run() async {
        let nio = channel.channel
        let tls: TLSConnectionFacts?
        // A client that has not sent its first bytes yet is closed by a graceful shutdown.
        let outcome = await withGracefulShutdownHandler {
            await transport.outcome()
        } onGracefulShutdown: {
            nio.close(promise: nil)
        }
        switch outcome {
        case .plain: tls = nil
        case .tls(let facts): tls = facts
        case .closed:
            // Refused or failed before the first message (the reason is logged); the wrapper must be finished.
            try? await channel.executeThenClose { _, _ in }
            return
        }
        let id = counters.connectionOpened()
        var log = logger
        log[metadataKey: "conn"] = "\(id)"
        let info = ConnectionInfo(
            id: id, remoteAddress: Connection.describe(nio.remoteAddress), localAddress: Connection.describe(nio.localAddress),
            tls: tls)
        // The context carries this connection's session; it is replaced (never shared) when a
        // command returns a session change.
        var context = makeContext(info, log)
        let activity = context.register()
        log.debug("connection accepted", metadata: ["peer": "\(info.remoteAddress)", "tls": "\(tls.map(\.version) ?? "no")"])
        let gate = ConnectionGate(channel: nio, drainLimit: drainLimit)
        var lastCompressor: MessageCompressor?
        do {
            try await withGracefulShutdownHandler {
                try await channel.executeThenClose { inbound, outbound in
                    for try await frame in inbound {
                        guard gate.enter() else { break }
                        let requestID = frame.header.requestID
                        let wireBytes = Int(frame.header.messageLength)
                        let inflation = await reserveInflation(for: frame)
                        defer { inflation?.release() }
                        // Parse, then let the frame go: a 48 MB insert should not be held twice
                        // (raw and parsed) while its documents are written.
                        let (plain, compressor) = try unwrap(consume frame)
                        if let compressor, compressor != lastCompressor {
                            context.logger.debug("OP_COMPRESSED request with \(compressor)")
                            lastCompressor = compressor
                        }
                        counters.received(bytes: Int(plain.header.messageLength), physicalBytes: wireBytes)
                        if let compressor {
                            counters.compression.decompressed(
                                id: compressor.rawValue, compressedBytes: wireBytes - Connection.compressedHeaderBytes,
                                bodyBytes: Int(plain.header.messageLength) - Connection.messageHeaderBytes)
                        }
                        let request = try WireRequest.parse(consume plain)
                        let keepGoing = try await handle(
                            request, requestID: requestID, requestBytes: wireBytes, compressor: compressor,
                            context: &context, outbound: outbound)
                        guard keepGoing else { break }
                        guard gate.leave() else {
                            // Shutdown began during this command: deliver its reply, then close.
                            try? await ConnectionGate.drainThenClose(nio, within: drainLimit).get()
                            break
                        }
                    }
                }
            } onGracefulShutdown: {
                gate.shutdown()
            }
        } catch let error as WireProtocolError {
            context.logger.warning("closing connection \(id): \(error)")
        } catch {
            context.logger.info("closing connection \(id): \(error)")
        }
        context.environment.connections.close(activity)
        counters.connectionClosed()
        await hooks.onClose(id)
        context.logger.debug("connection closed")
    }

    /// Handles one parsed request; returns false when the connection must close.
    ///
    /// Where the work runs (docs/performance.md, "No thread hops"): with an ``InlinePolicy`` the
    /// connection task lives on its event loop; a request the policy calls short is answered right
    /// there, with inline storage work allowed (``InlineWork``), and every other request runs on the
    /// blocking executor and comes back. Without one, the task already runs where it may block.
    private func handle(
        _ request: WireRequest, requestID: Int32, requestBytes: Int, compressor: MessageCompressor?,
        context: inout CommandContext,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) async throws -> Bool {
        var prepared: Result<CommandRequest, CommandError>?
        if case .msg(let msg) = request {
            do throws(CommandError) {
                var command = try CommandRequest(message: msg)
                command.allowsDeferredBatches = true
                prepared = .success(command)
            } catch {
                prepared = .failure(error)
            }
        }
        let answer: Answer
        if let inlinePolicy, let executor {
            if case .success(var command)? = prepared,
               inlinePolicy.placement(of: command, requestBytes: requestBytes) == .inline {
                command.firstBatchBytesLimit = inlinePolicy.firstBatchBytesLimit(for: command)
                prepared = .success(command)
                answer = try await InlineWork.$isAllowed.withValue(true) {
                    try await self.answer(request, prepared: prepared, requestID: requestID, requestBytes: requestBytes,
                                          compressor: compressor, inline: (inlinePolicy, executor), context: &context)
                }
            } else {
                answer = try await withTaskExecutorPreference(executor) {
                    try await self.answer(request, prepared: prepared, requestID: requestID, requestBytes: requestBytes,
                                          compressor: compressor, inline: nil, context: &context)
                }
            }
        } else {
            answer = try await self.answer(request, prepared: prepared, requestID: requestID, requestBytes: requestBytes,
                                           compressor: compressor, inline: nil, context: &context)
        }
        guard case .send(var buffer, let messageBytes) = answer else { return answer == .silent }
        counters.sent(bytes: messageBytes, physicalBytes: buffer.readableBytes)
        if context.connection.tls != nil {
            // Over TLS, a large reply goes out as separate writes: swift-nio-ssl encrypts what one
            // flush hands it before sending any of it, so one 8 MiB write kept the client idle
            // while the whole batch was encrypted (docs/security.md, "TLS download").
            while buffer.readableBytes > Connection.tlsWriteBytes, let piece = buffer.readSlice(length: Connection.tlsWriteBytes) {
                try await outbound.write(piece)
            }
        }
        try await outbound.write(buffer)
        return true
    }

    /// What a request produced: a reply to send (and its size before compression), nothing (a
    /// `moreToCome` request, or one refused without reply), or the connection must close.
    enum Answer: Equatable {
        case send(ByteBuffer, messageBytes: Int)
        case silent
        case close
    }

    /// Runs the request and encodes its reply. `inline` is set when it runs on the event loop: a
    /// deferred batch larger than the policy's ``InlinePolicy/maxReplyBytes`` is then read and
    /// assembled on `executor`.
    private func answer(
        _ request: WireRequest, prepared: Result<CommandRequest, CommandError>?, requestID: Int32, requestBytes: Int,
        compressor: MessageCompressor?, inline: (policy: InlinePolicy, executor: any TaskExecutor)?,
        context: inout CommandContext
    ) async throws -> Answer {
        let allocator = channel.channel.allocator
        var buffer: ByteBuffer
        switch request {
        case .msg(let msg):
            let wire = WireFacts(requestBytes: requestBytes, replyFramingBytes: msg.moreToCome ? nil : Connection.opMsgFraming)
            let (reply, deferred, close) = await run(context: &context, wire: wire) { () throws(CommandError) in
                guard let prepared else { throw CommandError(.internalError, "request not prepared") }
                return try prepared.get()
            }
            if close {
                    logFailPointClose(context)
                    return .close
                }
            if msg.moreToCome { return .silent }
            if let deferred {
                if let inline, deferred.byteCount > inline.policy.maxReplyBytes {
                    let readOnly = context
                    return await withTaskExecutorPreference(inline.executor) {
                        let buffer = writeDeferred(deferred, responseTo: requestID, context: readOnly)
                        return .send(wireReply(buffer, to: request, compressor: compressor), messageBytes: buffer.readableBytes)
                    }
                }
                buffer = writeDeferred(deferred, responseTo: requestID, context: context)
            } else {
                spareReply.drop()
                buffer = allocator.buffer(capacity: reply.bytes.count + 64)
                OpMsg.writeReply(reply, requestID: nextReplyID(), responseTo: requestID, to: &buffer)
            }
        case .query(let query):
            if query.isCommand {
                let command = try query.command()
                let wire = WireFacts(requestBytes: requestBytes, replyFramingBytes: Connection.opReplyFraming)
                let (reply, _, close) = await run(context: &context, wire: wire) { () throws(CommandError) in try CommandRequest(query: command) }
                if close {
                logFailPointClose(context)
                return .close
            }
                buffer = allocator.buffer(capacity: reply.bytes.count + 64)
                OpReply(commandReply: reply).write(requestID: nextReplyID(), responseTo: requestID, to: &buffer)
            } else {
                let error: BSONDocument = [
                    "$err": .string("OP_QUERY is only supported for commands on <db>.$cmd; use OP_MSG"),
                    "code": .int32(352), "codeName": "UnsupportedOpQueryCommand", "ok": .double(0),
                ]
                buffer = allocator.buffer(capacity: error.bytes.count + 64)
                OpReply(responseFlags: .queryFailure, documents: [error])
                    .write(requestID: nextReplyID(), responseTo: requestID, to: &buffer)
            }
        case .rejected(let rejection):
            context.logger.info("refused request \(requestID): \(rejection.error)")
            if rejection.moreToCome { return .silent }
            let reply = CommandDispatcher.errorReply(
                CommandError(code: rejection.code, codeName: rejection.codeName, message: rejection.error.message))
            buffer = allocator.buffer(capacity: reply.bytes.count + 64)
            if rejection.legacy {
                OpReply(commandReply: reply).write(requestID: nextReplyID(), responseTo: requestID, to: &buffer)
            } else {
                OpMsg.writeReply(reply, requestID: nextReplyID(), responseTo: requestID, to: &buffer)
            }
        case .unsupported(let opCode):
            context.logger.warning("closing connection \(context.connection.id): unsupported opcode \(opCode)")
            return .close
        }
        let messageBytes = buffer.readableBytes
        return .send(wireReply(buffer, to: request, compressor: compressor), messageBytes: messageBytes)
    }

    /// Bytes per write of a large reply on a TLS connection (each is encrypted and sent on its own).
    static let tlsWriteBytes = 256 * 1024

    /// Bytes OP_MSG adds around a reply body: header, flags, section kind.
    static let opMsgFraming = 16 + 4 + 1
    /// Bytes OP_REPLY adds around its one document: header, flags, cursor id, start, count.
    static let opReplyFraming = 16 + 4 + 8 + 4 + 4

    /// Builds the request and dispatches it through the observation point, then applies the
    /// session changes the command returned; a malformed request becomes an error reply. A reply
    /// with a deferred cursor batch comes back split around it (when the request allowed that).
    /// The flag is true when the connection must close without replying (a fail point's
    /// `closeConnection`).
    private func run(
        context: inout CommandContext, wire: WireFacts, _ makeRequest: () throws(CommandError) -> CommandRequest
    ) async -> (BSONDocument, DeferredCursorReply?, Bool) {
        do {
            let request = try makeRequest()
            let outcome = await dispatcher.execute(request, context: context, wire: wire)
            context.apply(outcome.sessionChanges)
            guard let batch = outcome.deferredBatch else { return (outcome.reply, nil, outcome.closeConnection) }
            if let splice = DeferredCursorReply(reply: outcome.reply, batch: batch) {
                return (outcome.reply, splice, outcome.closeConnection)
            }
            return (try outcome.fullReply(), nil, outcome.closeConnection)
        } catch {
            return (CommandDispatcher.errorReply(error), nil, false)
        }
    }

    /// The `failCommand` fail point asked for the connection to close instead of replying.
    private func logFailPointClose(_ context: CommandContext) {
        context.logger.info("closing connection \(context.connection.id): failCommand fail point (closeConnection)")
    }

    /// Reply request ids only need to be distinct per connection; drivers match on `responseTo`.
    /// A shared counter (a random number cost a `getrandom` system call per reply).
    func nextReplyID() -> Int32 {
        let next = Connection.replyIDs.wrappingAdd(1, ordering: .relaxed).newValue & Int32.max
        return next == 0 ? 1 : next
    }

    /// The last reply request id handed out.
    private static let replyIDs = Atomic<Int32>(0)

    static func describe(_ address: SocketAddress?) -> String {
        guard let address else { return "" }
        if let ip = address.ipAddress, let port = address.port { return "\(ip):\(port)" }
        return "\(address)"
    }
}
