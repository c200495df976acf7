import BSON
import Storage

/// `drop`: drops a collection; succeeds on a missing one (MongoDB 7 behaviour).
public enum DropCommand: CommandHandler {
    public static let names = ["drop"]
    public static let help = "Drops a collection."
    public static let parameters = ParameterSpec(ignored: ["writeConcern", "comment"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let namespace = try request.namespace()
        let existed = try await context.storage.dropCollection(namespace)
        var reply: BSONDocument = ["ns": .string(namespace.description)]
        if existed { reply.append("nIndexesWas", .int32(1)) }
        return reply
    }
}
