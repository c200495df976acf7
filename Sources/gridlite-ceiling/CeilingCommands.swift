import BSON
import NIOCore
import Wire

/// What a command produced: a reply document, or an already-encoded cursor reply.
enum CeilingReply {
    case document(BSONDocument)
    case cursor(batchKey: String, documents: ArraySlice<BSONDocument>, id: Int64, ns: String)
}

/// Answers the commands GridFS clients send, against a ``CeilingStore``.
struct CeilingCommands: Sendable {
    /// The store shared by all connections.
    let store: CeilingStore

    /// Runs the command in `body`; `sequences` are the OP_MSG kind-1 sections.
    func run(_ body: BSONDocument, sequences: [OpMsg.DocumentSequence], connectionId: Int) -> CeilingReply {
        guard let first = body.elements.first(where: { _ in true }) else {
            return .document(Self.error(CeilingError("empty command", code: 59)))
        }
        let db = body["$db"]?.stringValue ?? "admin"
        do throws(CeilingError) {
            switch first.key {
            case "hello", "isMaster", "ismaster": return .document(Self.hello(body, connectionId: connectionId))
            case "ping", "endSessions": return .document(["ok": 1.0])
            case "buildInfo", "buildinfo":
                return .document(["version": "7.0.0", "versionArray": [7, 0, 0, 0], "bits": 64,
                                  "maxBsonObjectSize": 16_777_216, "ok": 1.0])
            case "find": return try find(body, db: db)
            case "getMore": return try getMore(body, db: db)
            case "killCursors":
                let ids = (body["cursors"]?.arrayValue ?? []).compactMap { $0.intValue.map(Int64.init) }
                let killed = store.kill(ids)
                return .document(["cursorsKilled": .array(killed.map { .int64($0) }),
                                  "cursorsNotFound": .array(ids.filter { !killed.contains($0) }.map { .int64($0) }),
                                  "cursorsAlive": [], "cursorsUnknown": [], "ok": 1.0])
            case "insert": return .document(try insert(body, sequences, db: db))
            case "delete": return .document(try delete(body, sequences, db: db))
            case "update": return .document(try update(body, sequences, db: db))
            case "count": return .document(try count(body, db: db))
            case "aggregate": return try aggregate(body, db: db)
            case "createIndexes": return .document(try createIndexes(body, db: db))
            case "listIndexes": return try listIndexes(body, db: db)
            case "listCollections": return listCollections(db: db)
            case "drop":
                let ns = try Self.namespace(body, "drop", db: db)
                let removed = store.state.withLock { $0.collections.removeValue(forKey: ns) }
                return .document(["nIndexesWas": .int32(Int32((removed?.indexes.count ?? 0) + 1)),
                                  "ns": .string(ns), "ok": 1.0])
            case "dropDatabase":
                store.state.withLock { state in
                    for key in state.collections.keys where key.hasPrefix(db + ".") { state.collections[key] = nil }
                }
                return .document(["dropped": .string(db), "ok": 1.0])
            default:
                throw CeilingError("no such command: '\(first.key)'", code: 59)
            }
        } catch {
            return .document(Self.error(error))
        }
    }

    static func error(_ error: CeilingError) -> BSONDocument {
        ["ok": 0.0, "errmsg": .string(error.message), "code": .int32(error.code),
         "codeName": .string(error.code == 59 ? "CommandNotFound" : error.code == 26 ? "NamespaceNotFound" : "BadValue")]
    }

    private static func hello(_ body: BSONDocument, connectionId: Int) -> BSONDocument {
        var reply: BSONDocument = [:]
        reply.append(body.contains("hello") ? "isWritablePrimary" : "ismaster", true)
        if body["helloOk"]?.isTruthy == true { reply.append("helloOk", true) }
        reply.append("maxBsonObjectSize", 16_777_216)
        reply.append("maxMessageSizeBytes", 48_000_000)
        reply.append("maxWriteBatchSize", 100_000)
        reply.append("localTime", .datetime(0))
        reply.append("logicalSessionTimeoutMinutes", 30)
        reply.append("connectionId", .int32(Int32(truncatingIfNeeded: connectionId)))
        reply.append("minWireVersion", 0)
        reply.append("maxWireVersion", 21)
        reply.append("readOnly", false)
        reply.append("ok", 1.0)
        return reply
    }

    static func namespace(_ body: BSONDocument, _ name: String, db: String) throws(CeilingError) -> String {
        guard let collection = body[name]?.stringValue else { throw CeilingError("\(name) needs a collection name") }
        return db + "." + collection
    }

    /// Documents passed as a kind-1 section or as an inline array field of the body.
    static func documents(_ name: String, _ body: BSONDocument, _ sequences: [OpMsg.DocumentSequence]) -> [BSONDocument] {
        if let sequence = sequences.first(where: { $0.identifier == name }) { return sequence.documents }
        guard let element = body.element(forKey: name),
              case .document(let array)? = BSONValue.documentFromArrayElement(element) else { return [] }
        return array.elements.compactMap { element in
            element.typeByte == BSONType.document.rawValue ? BSONDocument(storedBytes: Array(element.rawValue)) : nil
        }
    }

    private func insert(_ body: BSONDocument, _ sequences: [OpMsg.DocumentSequence], db: String) throws(CeilingError) -> BSONDocument {
        let ns = try Self.namespace(body, "insert", db: db)
        let documents = Self.documents("documents", body, sequences)
        let duplicates: [Int] = store.state.withLock { state in
            var failed: [Int] = []
            state.collections[ns, default: MemoryCollection()].reserve(documents.count)
            for (index, document) in documents.enumerated()
            where !state.collections[ns, default: MemoryCollection()].insert(document) {
                failed.append(index)
            }
            return failed
        }
        var reply: BSONDocument = ["n": .int32(Int32(documents.count - duplicates.count))]
        if !duplicates.isEmpty {
            reply.append("writeErrors", .array(duplicates.map { index in
                .document(["index": .int32(Int32(index)), "code": 11000,
                           "errmsg": .string("E11000 duplicate key error collection: \(ns) index: _id_")])
            }))
        }
        reply.append("ok", 1.0)
        return reply
    }

    private func delete(_ body: BSONDocument, _ sequences: [OpMsg.DocumentSequence], db: String) throws(CeilingError) -> BSONDocument {
        let ns = try Self.namespace(body, "delete", db: db)
        var removed = 0
        for statement in Self.documents("deletes", body, sequences) {
            let filter = try MemoryFilter(statement["q"]?.documentValue)
            let limit = statement["limit"]?.intValue ?? 0
            removed += store.state.withLock { $0.collections[ns]?.removeMatching(filter, limit: limit) ?? 0 }
        }
        return ["n": .int32(Int32(removed)), "ok": 1.0]
    }

    private func update(_ body: BSONDocument, _ sequences: [OpMsg.DocumentSequence], db: String) throws(CeilingError) -> BSONDocument {
        let ns = try Self.namespace(body, "update", db: db)
        var matched = 0
        for statement in Self.documents("updates", body, sequences) {
            let filter = try MemoryFilter(statement["q"]?.documentValue)
            let multi = statement["multi"]?.isTruthy ?? false
            guard let change = statement["u"]?.documentValue else { throw CeilingError("update needs u") }
            let set = change["$set"]?.documentValue
            guard set != nil || !change.keys.contains(where: { $0.hasPrefix("$") }) else {
                throw CeilingError("only $set and replacements are supported")
            }
            matched += store.state.withLock { state in
                state.collections[ns]?.updateMatching(filter, limit: multi ? 0 : 1) { document in
                    if let set {
                        for (key, value) in set { document.set(key, value) }
                    } else if let id = document.element(forKey: "_id") {
                        var replacement = BSONDocument()
                        replacement.append(raw: id)
                        for element in change.elements where element.key != "_id" { replacement.append(raw: element) }
                        document = replacement
                    }
                } ?? 0
            }
        }
        return ["n": .int32(Int32(matched)), "nModified": .int32(Int32(matched)), "ok": 1.0]
    }

    private func count(_ body: BSONDocument, db: String) throws(CeilingError) -> BSONDocument {
        let ns = try Self.namespace(body, "count", db: db)
        let filter = try MemoryFilter(body["query"]?.documentValue)
        let n = store.state.withLock { $0.collections[ns]?.matchingSlots(filter).count ?? 0 }
        return ["n": .int32(Int32(n)), "ok": 1.0]
    }
}
