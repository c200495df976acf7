import BSON

extension CeilingCommands {
    /// `find`: filter, sort on one field, skip, limit, batchSize, singleBatch, projection.
    func find(_ body: BSONDocument, db: String) throws(CeilingError) -> CeilingReply {
        let ns = try Self.namespace(body, "find", db: db)
        let filter = try MemoryFilter(body["filter"]?.documentValue)
        let sort = body["sort"]?.documentValue.flatMap { $0.elements.first(where: { _ in true }) }
        let skip = max(0, body["skip"]?.intValue ?? 0)
        let limit = abs(body["limit"]?.intValue ?? 0)
        let batchSize = max(0, body["batchSize"]?.intValue ?? 0)
        let singleBatch = (body["singleBatch"]?.isTruthy ?? false) || (body["limit"]?.intValue ?? 0) < 0
        let projection = body["projection"]?.documentValue
        var documents: [BSONDocument] = store.state.withLock { state in
            state.collections[ns]?.prepare(for: filter)
            guard let collection = state.collections[ns] else { return [] }
            let slots = collection.matchingSlots(filter, limit: sort == nil && limit > 0 ? skip + limit : 0)
            return slots.compactMap { collection.slots[$0] }
        }
        if let sort {
            let descending = (sort.value.intValue ?? 1) < 0
            let field = sort.key
            let keyed = documents.map { (Self.sortKey($0, field), $0) }
            let ordered = keyed.enumerated().sorted { a, b in
                let (ka, kb) = (a.element.0, b.element.0)
                if ka == kb { return a.offset < b.offset }
                return descending ? ka > kb : ka < kb
            }
            documents = ordered.map(\.element.1)
        }
        if skip > 0 { documents = Array(documents.dropFirst(skip)) }
        if limit > 0 && documents.count > limit { documents = Array(documents.prefix(limit)) }
        if let projection, !projection.isEmpty { documents = documents.map { Self.project($0, projection) } }
        let range = CeilingStore.batch(documents, from: 0, maxCount: batchSize)
        let id = singleBatch ? 0 : store.openCursor(ns: ns, documents: documents, position: range.upperBound)
        return .cursor(batchKey: "firstBatch", documents: documents[range], id: id, ns: ns)
    }

    /// `getMore` on a cursor from ``find(_:db:)``.
    func getMore(_ body: BSONDocument, db: String) throws(CeilingError) -> CeilingReply {
        guard let id = body["getMore"]?.intValue else { throw CeilingError("getMore needs a cursor id") }
        let batchSize = max(0, body["batchSize"]?.intValue ?? 0)
        guard let (ns, documents, next) = store.nextBatch(id: Int64(id), maxCount: batchSize) else {
            throw CeilingError("cursor id \(id) not found", code: 43)
        }
        return .cursor(batchKey: "nextBatch", documents: documents, id: next, ns: ns)
    }

    /// Sort keys: numbers and dates as integers, strings as strings; others sort first.
    private static func sortKey(_ document: BSONDocument, _ field: String) -> SortKey {
        switch document[field] {
        case .int32(let v)?: .number(Int64(v))
        case .int64(let v)?: .number(v)
        case .datetime(let v)?: .number(v)
        case .double(let v)?: .number(Int64(v))
        case .string(let s)?: .string(s)
        default: .none
        }
    }

    /// Inclusion or exclusion projection on top-level fields.
    private static func project(_ document: BSONDocument, _ projection: BSONDocument) -> BSONDocument {
        let includeId = projection["_id"].map(\.isTruthy) ?? true
        let others = projection.elements.filter { $0.key != "_id" }
        let inclusive = others.contains { $0.value.isTruthy } || (others.isEmpty && projection["_id"]?.isTruthy == true)
        let named = Set(others.map(\.key))
        var result = BSONDocument()
        for element in document.elements {
            let key = element.key
            let keep = key == "_id" ? includeId : (inclusive ? named.contains(key) : !named.contains(key))
            if keep { result.append(raw: element) }
        }
        return result
    }

    /// `aggregate` with `$match`, `$skip`, `$limit` and a counting `$group` (what count_documents sends).
    func aggregate(_ body: BSONDocument, db: String) throws(CeilingError) -> CeilingReply {
        let ns = try Self.namespace(body, "aggregate", db: db)
        var filter = try MemoryFilter(nil)
        var skip = 0
        var limit = 0
        var counting: String?
        for stage in body["pipeline"]?.arrayValue ?? [] {
            guard let stage = stage.documentValue, let op = stage.elements.first(where: { _ in true }) else { continue }
            switch op.key {
            case "$match": filter = try MemoryFilter(op.value.documentValue)
            case "$skip": skip = op.value.intValue ?? 0
            case "$limit": limit = op.value.intValue ?? 0
            case "$group":
                guard let group = op.value.documentValue,
                      let field = group.elements.first(where: { $0.key != "_id" })?.key else {
                    throw CeilingError("unsupported $group")
                }
                counting = field
            default: throw CeilingError("aggregation stage \(op.key) not supported")
            }
        }
        guard let counting else { throw CeilingError("only counting pipelines are supported") }
        var n = store.state.withLock { $0.collections[ns]?.matchingSlots(filter).count ?? 0 }
        n = max(0, n - skip)
        if limit > 0 { n = min(n, limit) }
        let result: [BSONDocument] = n == 0 ? [] : [["_id": 1, counting: .int32(Int32(n))]]
        return .cursor(batchKey: "firstBatch", documents: result[...], id: 0, ns: ns)
    }

    /// `createIndexes`: remembers the specifications.
    func createIndexes(_ body: BSONDocument, db: String) throws(CeilingError) -> BSONDocument {
        let ns = try Self.namespace(body, "createIndexes", db: db)
        let specs = (body["indexes"]?.arrayValue ?? []).compactMap(\.documentValue)
        let (before, after, created) = store.state.withLock { state in
            let created = state.collections[ns] == nil
            var collection = state.collections.removeValue(forKey: ns) ?? MemoryCollection()
            let before = collection.indexes.count + 1
            for spec in specs where !collection.indexes.contains(where: { $0["name"] == spec["name"] }) {
                collection.indexes.append(spec)
            }
            let after = collection.indexes.count + 1
            state.collections[ns] = collection
            return (before, after, created)
        }
        return ["createdCollectionAutomatically": .bool(created), "numIndexesBefore": .int32(Int32(before)),
                "numIndexesAfter": .int32(Int32(after)), "ok": 1.0]
    }

    /// `listIndexes`: `_id_` plus the remembered specifications; NamespaceNotFound when missing.
    func listIndexes(_ body: BSONDocument, db: String) throws(CeilingError) -> CeilingReply {
        let ns = try Self.namespace(body, "listIndexes", db: db)
        guard let specs = store.state.withLock({ $0.collections[ns]?.indexes }) else {
            throw CeilingError("ns does not exist: \(ns)", code: 26)
        }
        let all: [BSONDocument] = [["v": 2, "key": .document(["_id": 1]), "name": "_id_"]] + specs
        return .cursor(batchKey: "firstBatch", documents: all[...], id: 0, ns: ns)
    }

    /// `listCollections` for one database.
    func listCollections(db: String) -> CeilingReply {
        let names = store.state.withLock { state in
            state.collections.keys.filter { $0.hasPrefix(db + ".") }.map { String($0.dropFirst(db.count + 1)) }
        }
        let documents: [BSONDocument] = names.sorted().map { name in
            ["name": .string(name), "type": "collection", "options": .document([:]), "info": .document(["readOnly": false])]
        }
        return .cursor(batchKey: "firstBatch", documents: documents[...], id: 0, ns: db + ".$cmd.listCollections")
    }
}

/// A comparable sort key for the ceiling server's single-field sorts.
enum SortKey: Comparable {
    case none
    case number(Int64)
    case string(String)
}
