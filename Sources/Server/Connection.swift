import BSON
import Commands
import Logging
import NIOCore
import ServiceLifecycle
import Wire

/// One client connection: reads frames in order, runs each command, writes its reply.
/// A protocol error closes this connection only, after logging why.
struct Connection {
    let channel: NIOAsyncChannel<WireFrame, ByteBuffer>
    let dispatcher: CommandDispatcher
    let hooks: ConnectionHooks
    let counters: ServerCounters
    let logger: Logger
    let makeContext: @Sendable (ConnectionInfo, Logger) -> CommandContext

    func run() async {
        let nio = channel.channel
        let id = counters.connectionOpened()
        var log = logger
        log[metadataKey: "conn"] = "\(id)"
        let info = ConnectionInfo(
            id: id, remoteAddress: Connection.describe(nio.remoteAddress), localAddress: Connection.describe(nio.localAddress))
        let commandContext = makeContext(info, log)
        log.debug("connection accepted", metadata: ["peer": "\(info.remoteAddress)"])
        let gate = ConnectionGate(channel: nio)
        do {
            try await withGracefulShutdownHandler {
                try await channel.executeThenClose { inbound, outbound in
                    for try await frame in inbound {
                        guard gate.enter() else { break }
                        let keepGoing = try await handle(frame, context: commandContext, outbound: outbound, log: log)
                        guard gate.leave(), keepGoing else { break }
                    }
                }
            } onGracefulShutdown: {
                gate.shutdown()
            }
        } catch let error as WireProtocolError {
            log.warning("closing connection \(id): \(error)")
        } catch {
            log.info("closing connection \(id): \(error)")
        }
        counters.connectionClosed()
        await hooks.onClose(id)
        log.debug("connection closed")
    }

    /// Handles one frame; returns false when the connection must close.
    private func handle(
        _ frame: WireFrame, context: CommandContext, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, log: Logger
    ) async throws -> Bool {
        let allocator = channel.channel.allocator
        switch try WireRequest.parse(frame) {
        case .msg(let msg):
            let reply: BSONDocument
            do {
                let request = try CommandRequest(
                    body: msg.body, sequences: msg.sequenceDictionary, database: msg.body["$db"]?.stringValue ?? "admin")
                reply = await dispatcher.dispatch(request, context: context)
            } catch {
                reply = CommandDispatcher.errorReply(error)
            }
            if msg.moreToCome { return true }
            try await outbound.write(WireReplies.opMsg(reply, respondingTo: frame.header.requestID, allocator: allocator))
            return true
        case .query(let query):
            let reply: BSONDocument
            if let database = query.commandDatabase {
                do {
                    let request = try CommandRequest(body: query.commandDocument, database: database)
                    reply = await dispatcher.dispatch(request, context: context)
                } catch {
                    reply = CommandDispatcher.errorReply(error)
                }
                try await outbound.write(WireReplies.opReply(reply, respondingTo: frame.header.requestID, queryFailure: false, allocator: allocator))
            } else {
                let err: BSONDocument = [
                    "$err": .string("OP_QUERY is only supported for commands on <db>.$cmd; use OP_MSG"),
                    "code": .int32(352), "codeName": "UnsupportedOpQueryCommand", "ok": .double(0),
                ]
                try await outbound.write(WireReplies.opReply(err, respondingTo: frame.header.requestID, queryFailure: true, allocator: allocator))
            }
            return true
        case .unsupported(let opCode):
            log.warning("closing connection \(context.connection.id): unsupported opcode \(opCode)")
            return false
        }
    }

    static func describe(_ address: SocketAddress?) -> String {
        guard let address else { return "" }
        if let ip = address.ipAddress, let port = address.port { return "\(ip):\(port)" }
        return "\(address)"
    }
}
