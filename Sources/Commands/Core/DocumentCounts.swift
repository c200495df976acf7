import BSON

/// How many documents a command returned or wrote, and how many write statements it attempted,
/// read from its request and reply in place (nothing decoded or copied: a 16 MiB batch costs
/// one walk over its element headers). Handlers stay unaware of the observation point.
public struct DocumentCounts: Sendable, Equatable {
    /// Documents sent back (cursor batches, `findAndModify`'s value).
    public var returned = 0
    /// Documents inserted (including upserts).
    public var inserted = 0
    /// Documents modified.
    public var updated = 0
    /// Documents deleted.
    public var deleted = 0
    /// Write statements attempted, as mongod counts them in `opcounters`: every statement of an
    /// unordered write, or those up to and including the first failure of an ordered one.
    public var statements = 0

    /// Creates counts.
    public init(returned: Int = 0, inserted: Int = 0, updated: Int = 0, deleted: Int = 0, statements: Int = 0) {
        self.returned = returned
        self.inserted = inserted
        self.updated = updated
        self.deleted = deleted
        self.statements = statements
    }

    /// The counts of one command. `reply` is the reply with `ok` (an `ok: 0` reply counts nothing).
    public init(request: CommandRequest, reply: BSONDocument, succeeded: Bool) {
        guard succeeded else { return }
        switch request.name {
        case "find", "aggregate":
            returned = DocumentCounts.batchSize(reply, "firstBatch")
        case "getMore":
            returned = DocumentCounts.batchSize(reply, "nextBatch")
        case "insert":
            inserted = DocumentCounts.int(reply, "n")
            statements = DocumentCounts.attempted(request, reply, "documents")
        case "update":
            inserted = DocumentCounts.items(reply, "upserted")
            updated = DocumentCounts.int(reply, "nModified")
            statements = DocumentCounts.attempted(request, reply, "updates")
        case "delete":
            deleted = DocumentCounts.int(reply, "n")
            statements = DocumentCounts.attempted(request, reply, "deletes")
        case "findAndModify", "findandmodify":
            if let value = reply.element(forKey: "value"), value.typeByte != BSONType.null.rawValue { returned = 1 }
            let n = DocumentCounts.int(reply, "lastErrorObject.n")
            if request.body["remove"]?.isTruthy == true {
                deleted = n
            } else if reply.element(atPath: "lastErrorObject.upserted") != nil {
                inserted = n
            } else {
                updated = n
            }
        default:
            break
        }
    }

    /// The number of documents in `cursor.<batch>` (two key lookups in place; on every read).
    static func batchSize(_ reply: BSONDocument, _ batch: String) -> Int {
        guard let fields = reply.element(forKey: "cursor")?.children else { return 0 }
        for field in fields where field.key == batch {
            guard let items = field.children else { return 0 }
            var n = 0
            for _ in items { n &+= 1 }
            return n
        }
        return 0
    }

    /// The number of items of the array or document at `path`.
    static func items(_ doc: BSONDocument, _ path: String) -> Int {
        guard let children = doc.element(atPath: path)?.children else { return 0 }
        var n = 0
        for _ in children { n &+= 1 }
        return n
    }

    /// An integer field of the reply (0 when absent).
    static func int(_ doc: BSONDocument, _ path: String) -> Int {
        guard let e = doc.element(atPath: path) else { return 0 }
        return e.value.intValue ?? 0
    }

    /// Statements attempted: all of them, unless the write is ordered and one failed.
    static func attempted(_ request: CommandRequest, _ reply: BSONDocument, _ field: String) -> Int {
        let total: Int
        if let sequence = request.sequences[field] {
            total = sequence.count
        } else {
            total = items(request.body, field)
        }
        let ordered = request.body["ordered"].map(\.isTruthy) ?? true
        guard ordered, let firstError = reply.element(atPath: "writeErrors.0.index") else { return total }
        let index = firstError.value.intValue ?? total
        return index >= 0 && index < total ? index &+ 1 : total
    }
}
