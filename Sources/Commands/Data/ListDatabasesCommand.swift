import BSON
import Query
import Storage

/// `listDatabases` (admin): every database with its size.
public enum ListDatabasesCommand: CommandHandler {
    public static let names = ["listDatabases"]
    public static let help = "Lists databases."
    public static let parameters = ParameterSpec(optional: ["filter", "nameOnly", "authorizedDatabases"], ignored: ["comment"])
    public static let adminOnly = true

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let filter = try Filter(request.document("filter") ?? BSONDocument())
        let nameOnly = try request.bool("nameOnly", default: false)
        let authorized = try await AuthorizedDatabases.filter(
            context, requested: request.body["authorizedDatabases"].map { $0.isTruthy })
        var list: [BSONValue] = []
        var total: Int64 = 0
        for db in try await context.storage.listDatabases() {
            let doc: BSONDocument = nameOnly
                ? ["name": .string(db.name)]
                : ["name": .string(db.name), "sizeOnDisk": .int64(db.sizeOnDisk), "empty": .bool(db.empty)]
            guard filter.matches(doc), authorized?(db.name) ?? true else { continue }
            total += db.sizeOnDisk
            list.append(.document(doc))
        }
        var reply: BSONDocument = ["databases": .array(list)]
        if !nameOnly {
            reply.append("totalSize", .int64(total))
            reply.append("totalSizeMb", .int64(total / 1024 / 1024))
        }
        return reply
    }
}
