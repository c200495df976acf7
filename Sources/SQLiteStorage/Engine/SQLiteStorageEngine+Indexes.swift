import BSON
import Storage

extension SQLiteStorageEngine {
    public func createIndexes(_ specs: [IndexSpec], on namespace: Namespace) async throws -> CreateIndexesResult {
        try await mutate { c, entries in
            let created = entries[namespace] == nil
            var entry = try Self.ensure(c, &entries, namespace)
            let before = entry.visibleIndexes.count
            for spec in specs {
                if try IndexRules.alreadyExists(spec, among: entry.visibleIndexes.map(\.spec)) { continue }
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
            let names = Set(try IndexRules.victims(target, among: entry.visibleIndexes.map(\.spec)).map(\.name))
            let victims = entry.visibleIndexes.filter { names.contains($0.spec.name) }
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
}
