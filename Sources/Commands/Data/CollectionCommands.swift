import BSON
import Query
import Storage

/// `create`: creates a collection explicitly; 48 `NamespaceExists` when it exists.
public enum CreateCommand: CommandHandler {
    public static let names = ["create"]
    public static let help = "Creates a collection."
    public static let parameters = ParameterSpec(
        ignored: ["writeConcern", "comment", "storageEngine", "indexOptionDefaults", "autoIndexId", "flags"],
        unimplemented: ["capped", "timeseries", "clusteredIndex", "viewOn", "pipeline", "validator", "collation",
                        "changeStreamPreAndPostImages", "expireAfterSeconds", "encryptedFields"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let namespace = try request.namespace()
        var options = BSONDocument()
        for e in request.body.elements where e.key != request.name && !ParameterSpec.generic.contains(e.key) {
            options.append(raw: e)
        }
        try await context.storage.createCollection(namespace, options: options)
        return BSONDocument()
    }
}

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

/// `dropDatabase`: drops every collection of the database.
public enum DropDatabaseCommand: CommandHandler {
    public static let names = ["dropDatabase"]
    public static let help = "Drops the current database."
    public static let parameters = ParameterSpec(ignored: ["writeConcern", "comment"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        try Namespace.checkDatabaseName(request.database)
        try await context.storage.dropDatabase(request.database)
        return ["dropped": .string(request.database)]
    }
}

/// `listCollections`: a cursor over the database's collections.
public enum ListCollectionsCommand: CommandHandler {
    public static let names = ["listCollections"]
    public static let help = "Lists the collections of a database."
    public static let parameters = ParameterSpec(optional: ["filter", "nameOnly", "authorizedCollections", "cursor"], ignored: ["comment"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let filter = try Filter(request.document("filter") ?? BSONDocument())
        let nameOnly = try request.bool("nameOnly", default: false)
        var docs: [BSONDocument] = []
        for info in try await context.storage.listCollections(in: request.database) {
            let full: BSONDocument = [
                "name": .string(info.name),
                "type": "collection",
                "options": .document(info.options),
                "info": .document(["readOnly": .bool(false), "uuid": .binary(BSONBinary(subtype: 4, data: info.uuid))]),
                "idIndex": .document(["v": .int32(2), "key": .document(["_id": .int32(1)]), "name": "_id_"]),
            ]
            guard filter.matches(full) else { continue }
            docs.append(nameOnly ? ["name": .string(info.name), "type": "collection"] : full)
        }
        let ns = Namespace(unchecked: request.database, "$cmd.listCollections")
        return CursorBatch.reply(docs, id: 0, namespace: ns, first: true)
    }
}

/// `listDatabases` (admin): every database with its size.
public enum ListDatabasesCommand: CommandHandler {
    public static let names = ["listDatabases"]
    public static let help = "Lists databases."
    public static let parameters = ParameterSpec(optional: ["filter", "nameOnly", "authorizedDatabases"], ignored: ["comment"])
    public static let adminOnly = true

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let filter = try Filter(request.document("filter") ?? BSONDocument())
        let nameOnly = try request.bool("nameOnly", default: false)
        var list: [BSONValue] = []
        var total: Int64 = 0
        for db in try await context.storage.listDatabases() {
            let doc: BSONDocument = nameOnly
                ? ["name": .string(db.name)]
                : ["name": .string(db.name), "sizeOnDisk": .int64(db.sizeOnDisk), "empty": .bool(db.empty)]
            guard filter.matches(doc) else { continue }
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

/// `renameCollection` (admin): `{renameCollection: "db.a", to: "db.b", dropTarget}`.
public enum RenameCollectionCommand: CommandHandler {
    public static let names = ["renameCollection"]
    public static let help = "Renames a collection."
    public static let parameters = ParameterSpec(required: ["to"], optional: ["dropTarget"], ignored: ["writeConcern", "stayTemp", "comment"])
    public static let adminOnly = true

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        guard case .string(let from)? = request.argument, let source = Namespace.parse(from) else {
            throw CommandError(.invalidNamespace, "Invalid source namespace: \(request.argument.map { "\($0)" } ?? "missing")")
        }
        guard let to = try request.string("to"), let target = Namespace.parse(to) else {
            throw CommandError(.invalidNamespace, "Invalid target namespace")
        }
        try await context.storage.renameCollection(from: source, to: target, dropTarget: try request.bool("dropTarget", default: false))
        return BSONDocument()
    }
}
