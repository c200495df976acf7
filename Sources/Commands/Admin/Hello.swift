import BSON
import Foundation

/// `hello` / `isMaster` / `ismaster`: the handshake every driver starts with, and the monitors'
/// heartbeat. gridlite presents itself as a standalone MongoDB 7.0 server.
///
/// Deliberately absent: `topologyVersion` (clients would start streaming hellos and spin),
/// `setName`/`hosts` (no replica set), `msg: "isdbgrid"` (no mongos), `$clusterTime`.
/// `compression` is present when the client listed compressors this server offers (see
/// ``negotiateCompression(_:offered:)``); the agreed list is kept in the session. A `hello` with
/// `loadBalanced: true` (a driver behind a TCP load balancer) is answered with `serviceId`.
///
/// The first `hello` of a connection completes its handshake: the `client` metadata (checked as
/// mongod checks it) is returned as a ``SessionChange`` for the connection to keep; a later
/// `hello` carrying `client` is 186 ClientMetadataCannotBeMutated.
public enum HelloCommand: CommandHandler {
    public static let names = ["hello", "isMaster", "ismaster"]
    public static let help = "Reports the server's role and limits (driver handshake)."
    /// Drivers add fields freely (`client`, `compression`, `saslSupportedMechs`…): all are accepted.
    public static let parameters = ParameterSpec(
        optional: ["helloOk", "client", "loadBalanced"],
        ignored: ["compression", "saslSupportedMechs", "speculativeAuthenticate",
                  "topologyVersion", "maxAwaitTimeMS", "backpressure"])

    public static func outcome(_ request: CommandRequest, context: CommandContext) async throws -> CommandOutcome {
        let compressors = negotiateCompression(request.body["compression"], offered: context.environment.networkMessageCompressors)
        let change = try context.session.hello(
            client: request.body["client"], compressors: compressors, loadBalanced: isLoadBalanced(request))
        var reply = try await run(request, context: context)
        let auth = try await authenticationFields(request, context: context)
        for (key, value) in auth.fields { reply.append(key, value) }
        return CommandOutcome(reply: reply, sessionChanges: [change] + (auth.change.map { [$0] } ?? []))
    }

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        var reply = BSONDocument()
        if request.name == "hello" {
            reply.append("isWritablePrimary", .bool(true))
        } else {
            reply.append("ismaster", .bool(true))
        }
        if request.body["helloOk"]?.isTruthy == true {
            reply.append("helloOk", .bool(true))
        }
        reply.append("maxBsonObjectSize", .int32(ServerEnvironment.maxBsonObjectSize))
        reply.append("maxMessageSizeBytes", .int32(ServerEnvironment.maxMessageSizeBytes))
        reply.append("maxWriteBatchSize", .int32(ServerEnvironment.maxWriteBatchSize))
        reply.append("localTime", Date().bsonDate)
        reply.append("logicalSessionTimeoutMinutes", .int32(30))
        reply.append("connectionId", .int64(context.connection.id))
        reply.append("minWireVersion", .int32(ServerEnvironment.minWireVersion))
        reply.append("maxWireVersion", .int32(ServerEnvironment.maxWireVersion))
        reply.append("readOnly", .bool(false))
        let compressors = negotiateCompression(request.body["compression"], offered: context.environment.networkMessageCompressors)
        if !compressors.isEmpty {
            reply.append("compression", .array(compressors.map { .string($0) }))
        }
        if isLoadBalanced(request) {
            // The load-balancer spec: a driver in load-balanced mode fails the handshake unless
            // the reply has a serviceId (one per process, so clients of a balancer can tell the
            // daemons behind it apart).
            reply.append("serviceId", .objectId(context.environment.serviceId))
        }
        return reply
    }

    /// True when the client says it connects through a load balancer (`loadBalanced: true`).
    static func isLoadBalanced(_ request: CommandRequest) -> Bool {
        request.body["loadBalanced"]?.isTruthy == true
    }
}
