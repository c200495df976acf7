import BSON
import Storage

extension PostgresStorageEngine {
    /// Runs `body` on the collection's writer in one transaction (creating the collection when
    /// `create`; nil when it does not exist). The catalog row is share-locked for the transaction.
    /// A broken session (connection lost, statement failed) fails the whole command, even when the
    /// write rules had turned the failure into per-document errors.
    func write<T: Sendable>(_ namespace: Namespace, create: Bool,
                            _ body: @escaping @Sendable (inout PGWriter) throws -> T) async throws -> T? {
        // A stale plan rolls the whole transaction back; the next attempt looks the indexes up again.
        try await replanning { try await writeOnce(namespace, create: create, body) }
    }

    private func writeOnce<T: Sendable>(_ namespace: Namespace, create: Bool,
                                        _ body: @escaping @Sendable (inout PGWriter) throws -> T) async throws -> T? {
        try await transaction { s in
            var entry = try PGCatalog.entry(s, namespace, lock: .share)
            if entry == nil, create { entry = try PGCatalog.create(s, namespace, options: BSONDocument(), lock: .share).0 }
            guard let entry else { return nil }
            // As mongod checks for interrupts once it holds its locks.
            try OperationDeadline.checkCurrent()
            var writer = PGWriter(session: s, entry: entry)
            let result = try body(&writer)
            try s.flush()
            return result
        }
    }

    public func insert(_ documents: [BSONDocument], into namespace: Namespace, ordered: Bool) async throws -> InsertResult {
        if let entry = catalogCache.get(namespace), let done = try await quickInsert(documents, into: entry) { return done }
        return try await write(namespace, create: true) { try $0.insertAll(documents, ordered: ordered) }
            ?? InsertResult(inserted: 0, writeErrors: [])
    }

    /// An insert into a collection this daemon knows as one autocommitted statement: the catalog
    /// check (id and version, share-locked), the rows and their keys together, so a small insert
    /// (a GridFS files document, a one-chunk file) costs one round trip instead of three (lookup,
    /// insert, COMMIT). It commits all of its documents or none; nil when it did not (a duplicate
    /// key, the catalog changed, more than one statement's worth of documents, an index turning
    /// multikey), and the transaction path then decides, with MongoDB's per-document errors.
    func quickInsert(_ documents: [BSONDocument], into entry: PGCollection) async throws -> InsertResult? {
        guard !documents.isEmpty, documents.count <= PGWriter.batchDocuments,
              documents.reduce(0, { $0 + $1.bytes.count }) <= PGWriter.batchBytes,
              let statement = PGWriter.batchStatement(documents, entry: entry, guarded: (entry.id, entry.version)),
              !zip(entry.tableIndexes, statement.multikey).contains(where: { $1 && !$0.multikey }) else { return nil }
        return try await withSession { s in
            try OperationDeadline.checkCurrent()
            guard let row = try s.queryUnlessRefused(statement.sql, statement.values)?.first,
                  row.int(0) == Int64(documents.count) else { return nil }
            return InsertResult(inserted: documents.count, writeErrors: [])
        }
    }

    /// Two daemons (or two connections) upserting the same missing document both insert it and
    /// one of them meets the other's key. As mongod does, the command is then run again (its
    /// transaction rolled back first): the retry finds the document and updates it. A key that
    /// stays duplicated (a genuine conflict) is reported after ``upsertAttempts``.
    static let upsertAttempts = 4

    public func update(_ statements: [UpdateStatement], in namespace: Namespace, ordered: Bool) async throws -> UpdateResult {
        let create = statements.contains(where: \.upsert)
        for attempt in 1...Self.upsertAttempts {
            do {
                return try await write(namespace, create: create) { w in
                    let result = try WriteRules.update(statements, ordered: ordered, in: &w)
                    let raced = result.writeErrors.contains { $0.error.code == 11000 && statements.indices.contains($0.index) && statements[$0.index].upsert }
                    if raced && attempt < Self.upsertAttempts { throw RetryUpsert() }
                    return result
                } ?? UpdateResult()
            } catch is RetryUpsert {
                continue
            }
        }
        return UpdateResult()
    }

    public func delete(_ statements: [DeleteStatement], in namespace: Namespace, ordered: Bool) async throws -> DeleteResult {
        try await write(namespace, create: false) { try WriteRules.delete(statements, ordered: ordered, in: &$0) } ?? DeleteResult()
    }

    public func findAndModify(_ op: FindAndModifyOperation, in namespace: Namespace) async throws -> FindAndModifyResult {
        var attempt = 1
        while true {
            do {
                return try await write(namespace, create: op.upsert) { try WriteRules.findAndModify(op, in: &$0) }
                    ?? FindAndModifyResult(value: nil, updatedExisting: false, upsertedId: nil, n: 0)
            } catch let e as MongoError where e.code == 11000 && op.upsert && attempt < Self.upsertAttempts {
                attempt += 1
            }
        }
    }
}

/// Thrown inside a write transaction to roll it back for another attempt (an upsert that met a
/// concurrent insert of its key); passes through ``PostgresStorageEngine/withSession(_:)`` as is.
struct RetryUpsert: Error {}
