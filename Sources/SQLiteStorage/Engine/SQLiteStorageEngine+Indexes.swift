import BSON
import Storage

extension SQLiteStorageEngine {
    public func createIndexes(_ specs: [IndexSpec], on namespace: Namespace) async throws -> CreateIndexesResult {
        try await mutate { c, entries in
            let created = entries[namespace] == nil
            var entry = try Self.ensure(c, &entries, namespace)
            let before = entry.visibleIndexes.count
            for spec in specs {
                if let existing = entry.visibleIndexes.first(where: { $0.spec.name == spec.name }) {
                    guard existing.spec.sameKey(as: spec) else {
                        throw StorageError(.indexKeySpecsConflict,
                            "An existing index has the same name as the requested index. Requested index: \(spec.spec), existing index: \(existing.spec.spec)")
                    }
                    guard existing.spec.unique == spec.unique || spec.name == "_id_" else {
                        throw StorageError(.indexOptionsConflict,
                            "An existing index has the same name as the requested index. Requested index: \(spec.spec), existing index: \(existing.spec.spec)")
                    }
                    continue
                }
                if let other = entry.visibleIndexes.first(where: { $0.spec.sameKey(as: spec) }) {
                    guard other.spec.unique != spec.unique else {
                        throw StorageError(.indexOptionsConflict, "Index already exists with a different name: \(other.spec.name)")
                    }
                }
                if let hidden = entry.indexes.firstIndex(where: { $0.hidden && $0.backing == .keyColumn && $0.spec.sameKey(as: spec) }),
                   !(spec.unique && entry.indexes[hidden].multikey) {
                    entry.indexes[hidden] = try IndexBuilder.adoptKeyColumn(c, entry: entry, blobs: self.blobs, index: entry.indexes[hidden], spec: spec)
                    continue
                }
                let index = try CatalogSQL.insertIndex(c, collection: entry.id, spec: spec, backing: .table, hidden: false)
                try IndexBuilder.createTable(c, index)
                try IndexBuilder.populate(c, entry: entry, blobs: self.blobs, index: index)
                entry.indexes.append(index)
            }
            entries[namespace] = try Self.reloadIndexes(c, entry)
            return CreateIndexesResult(
                numIndexesBefore: before, numIndexesAfter: entries[namespace]?.visibleIndexes.count ?? before,
                createdCollectionAutomatically: created)
        }
    }

    /// Re-reads an entry's index rows (populate may have flagged multikey).
    static func reloadIndexes(_ c: SQLiteConnection, _ entry: CollectionEntry) throws -> CollectionEntry {
        var entry = entry
        var flags: [Int64: Bool] = [:]
        try c.withStatement("SELECT id, multikey FROM gl_indexes WHERE collection_id = ?") { s in
            try s.bind(entry.id, at: 1)
            while try s.step() { flags[s.int64(0)] = s.int64(1) != 0 }
        }
        for i in entry.indexes.indices { entry.indexes[i].multikey = flags[entry.indexes[i].id] ?? entry.indexes[i].multikey }
        return entry
    }

    public func listIndexes(_ namespace: Namespace) async throws -> [IndexSpec] {
        guard let entry = catalog.entry(namespace) else {
            throw StorageError(.namespaceNotFound, "ns does not exist: \(namespace)")
        }
        return entry.visibleIndexes.map(\.spec)
    }

    public func dropIndexes(_ target: IndexTarget, on namespace: Namespace) async throws -> Int {
        try await mutate { c, entries in
            guard var entry = entries[namespace] else {
                throw StorageError(.namespaceNotFound, "ns not found \(namespace)")
            }
            let before = entry.visibleIndexes.count
            var victims: [IndexEntry] = []
            switch target {
            case .all:
                victims = entry.visibleIndexes.filter { $0.backing != .idColumn }
            case .name(let name):
                victims = [try Self.findIndex(entry, orFail: "index not found with name [\(name)]") { $0.spec.name == name }]
            case .names(let names):
                for name in names {
                    victims.append(try Self.findIndex(entry, orFail: "index not found with name [\(name)]") { $0.spec.name == name })
                }
            case .key(let key):
                let probe = IndexSpec(name: "", key: key.pairs.map { ($0.key, ($0.value.doubleValue ?? 1) < 0 ? -1 : 1) }, unique: false, spec: key)
                victims = [try Self.findIndex(entry, orFail: "can't find index with key: \(key)") { $0.spec.sameKey(as: probe) }]
            }
            if victims.contains(where: { $0.backing == .idColumn }) {
                throw StorageError(code: 72, codeName: "InvalidOptions", message: "cannot drop _id index")
            }
            for victim in victims {
                guard let i = entry.indexes.firstIndex(where: { $0.id == victim.id }) else { continue }
                if victim.backing == .keyColumn {
                    entry.indexes[i] = try IndexBuilder.releaseKeyColumn(c, entry: entry, index: victim)
                } else {
                    try c.exec("DROP TABLE IF EXISTS \(victim.table)")
                    _ = try c.execute("DELETE FROM gl_indexes WHERE id = ?", [.integer(victim.id)])
                    entry.indexes.remove(at: i)
                }
            }
            entries[namespace] = entry
            return before
        }
    }

    static func findIndex(_ entry: CollectionEntry, orFail message: String, _ match: (IndexEntry) -> Bool) throws -> IndexEntry {
        guard let index = entry.visibleIndexes.first(where: match) else {
            throw StorageError(.indexNotFound, message)
        }
        return index
    }
}
