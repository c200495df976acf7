import BSON
import Query
import Storage

/// Writes: each call one write transaction in which the engine-neutral ``WriteRules`` run over a
/// ``RowWriter`` (MongoDB's semantics live there; this file only opens the collection).
extension SQLiteStorageEngine {
    /// The entry for `namespace`, creating the collection (MongoDB creates on first write).
    static func ensure(_ c: SQLiteConnection, _ entries: inout [Namespace: CollectionEntry], _ namespace: Namespace) throws -> CollectionEntry {
        if let e = entries[namespace] { return e }
        let e = try CatalogSQL.createCollection(c, namespace, options: BSONDocument())
        entries[namespace] = e
        return e
    }

    public func insert(_ documents: [BSONDocument], into namespace: Namespace, ordered: Bool) async throws -> InsertResult {
        let (blobs, logger) = (self.blobs, self.logger)
        return try await mutate { c, entries in
            var writer = RowWriter(c: c, blobs: blobs, entry: try Self.ensure(c, &entries, namespace), logger: logger)
            let result = try WriteRules.insert(documents, ordered: ordered, into: &writer)
            entries[namespace] = writer.entry
            return result
        }
    }

    public func update(_ statements: [UpdateStatement], in namespace: Namespace, ordered: Bool) async throws -> UpdateResult {
        let (blobs, logger) = (self.blobs, self.logger)
        return try await mutate { c, entries in
            guard entries[namespace] != nil || statements.contains(where: \.upsert) else { return UpdateResult() }
            var writer = RowWriter(c: c, blobs: blobs, entry: try Self.ensure(c, &entries, namespace), logger: logger)
            let result = try WriteRules.update(statements, ordered: ordered, in: &writer)
            entries[namespace] = writer.entry
            return result
        }
    }

    public func delete(_ statements: [DeleteStatement], in namespace: Namespace, ordered: Bool) async throws -> DeleteResult {
        guard catalog.entry(namespace) != nil else { return DeleteResult() }
        let (blobs, logger) = (self.blobs, self.logger)
        return try await mutate { c, entries in
            guard let entry = entries[namespace] else { return DeleteResult() }
            var writer = RowWriter(c: c, blobs: blobs, entry: entry, logger: logger)
            writer.verifyChecksums = false
            let result = try WriteRules.delete(statements, ordered: ordered, in: &writer)
            entries[namespace] = writer.entry
            return result
        }
    }

    public func findAndModify(_ op: FindAndModifyOperation, in namespace: Namespace) async throws -> FindAndModifyResult {
        let (blobs, logger) = (self.blobs, self.logger)
        return try await mutate { c, entries in
            guard entries[namespace] != nil || op.upsert else {
                return FindAndModifyResult(value: nil, updatedExisting: false, upsertedId: nil, n: 0)
            }
            var writer = RowWriter(c: c, blobs: blobs, entry: try Self.ensure(c, &entries, namespace), logger: logger)
            defer { entries[namespace] = writer.entry }
            return try WriteRules.findAndModify(op, in: &writer)
        }
    }
}
