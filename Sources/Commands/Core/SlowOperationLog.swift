import BSON
import Logging
import Query
import Storage

/// mongod's slow query log: a command that ran longer than `--slowms` is logged at info as
/// `Slow query` with its namespace, the client, and a plan summary (`IXSCAN { _id: 1 }`,
/// `COLLSCAN`, `EOF` for a missing collection).
enum SlowOperationLog {
    /// Longest command text logged; longer ones are cut (as mongod truncates in its logs).
    static let maxCommandText = 1024

    /// Logs one slow command. Re-plans its query from the collection's indexes through the same
    /// ``QueryPlanner`` every backend uses, so the summary names the index the read used (only
    /// slow commands pay for this).
    static func log(_ record: CommandRecord, request: CommandRequest, context: CommandContext) async {
        var metadata: Logger.Metadata = [
            "type": "command",
            "ns": "\(namespace(of: request))",
            "command": "\(record.name)",
            "durationMillis": "\(Int64(record.duration.milliseconds))",
            "conn": "\(context.connection.id)",
            "client": "\(context.connection.remoteAddress)",
            "reslen": "\(record.replyBytes)",
        ]
        if let app = context.session.applicationName { metadata["appName"] = "\(app)" }
        if let plan = await planSummary(request, storage: context.storage) { metadata["planSummary"] = "\(plan)" }
        let docs = record.documents
        if docs.returned > 0 { metadata["nreturned"] = "\(docs.returned)" }
        if docs.inserted > 0 { metadata["ninserted"] = "\(docs.inserted)" }
        if docs.updated > 0 { metadata["nModified"] = "\(docs.updated)" }
        if docs.deleted > 0 { metadata["ndeleted"] = "\(docs.deleted)" }
        if !record.succeeded { metadata["errCode"] = "\(record.code)" }
        metadata["body"] = "\(commandText(AuthRedaction.body(of: request)))"
        context.logger.info("Slow query", metadata: metadata)
    }

    /// The namespace a command reads or writes (`db.collection`), or `db.$cmd` for the others.
    static func namespace(of request: CommandRequest) -> String {
        if request.name == "getMore", case .string(let collection)? = request.body["collection"] {
            return "\(request.database).\(collection)"
        }
        if case .string(let collection)? = request.argument, !collection.isEmpty {
            return "\(request.database).\(collection)"
        }
        return "\(request.database).$cmd"
    }

    /// The command as relaxed extended JSON, cut to ``maxCommandText`` characters.
    static func commandText(_ body: BSONDocument) -> String {
        let text = body.relaxedExtendedJSON
        guard text.count > maxCommandText else { return text }
        return String(text.prefix(maxCommandText)) + "…"
    }

    /// What the query of a read or write command scans, or nil for commands without one.
    static func planSummary(_ request: CommandRequest, storage: any StorageEngine) async -> String? {
        guard let query = queryShape(request), case .string(let collection)? = request.argument,
              let namespace = try? Namespace.checked(request.database, collection)
        else { return nil }
        guard let indexes = try? await storage.listIndexes(namespace) else { return "EOF" }
        let descriptors = indexes.map { IndexDescriptor(name: $0.name, key: $0.key, unique: $0.unique, multikey: false) }
        guard let filter = try? Filter(query.filter),
              let plan = try? QueryPlanner.plan(filter: filter, sort: query.sort, indexes: descriptors, hint: query.hint)
        else { return nil }
        switch plan.scan {
        case .collection:
            return "COLLSCAN"
        case .index(let name, _, _):
            guard let index = indexes.first(where: { $0.name == name }) else { return "IXSCAN { \(name) }" }
            let keys = index.key.map { "\($0.path): \($0.direction)" }.joined(separator: ", ")
            return "IXSCAN { \(keys) }"
        }
    }

    /// The filter, sort and hint of a command that reads through a query.
    private static func queryShape(_ request: CommandRequest) -> (filter: BSONDocument, sort: SortSpec?, hint: IndexTarget?)? {
        let body = request.body
        func doc(_ value: BSONValue?) -> BSONDocument? {
            if case .document(let d)? = value { return d }
            return nil
        }
        func sort(_ value: BSONValue?) -> SortSpec? {
            guard let d = doc(value), !d.isEmpty else { return nil }
            return try? SortSpec(d)
        }
        let hint = (try? IndexTarget.parseHint(body["hint"])) ?? nil
        switch request.name {
        case "find":
            return (doc(body["filter"]) ?? BSONDocument(), sort(body["sort"]), hint)
        case "count", "distinct":
            return (doc(body["query"]) ?? BSONDocument(), nil, hint)
        case "findAndModify", "findandmodify":
            return (doc(body["query"]) ?? BSONDocument(), sort(body["sort"]), hint)
        case "update", "delete":
            let field = request.name == "update" ? "updates" : "deletes"
            let first = request.sequences[field]?.first ?? doc(body.element(atPath: "\(field).0")?.value)
            return (doc(first?["q"]) ?? BSONDocument(), nil, nil)
        case "aggregate":
            guard case .document(let stage)? = body.element(atPath: "pipeline.0")?.value,
                  let match = doc(stage["$match"])
            else { return (BSONDocument(), nil, hint) }
            return (match, nil, hint)
        default:
            return nil
        }
    }
}
