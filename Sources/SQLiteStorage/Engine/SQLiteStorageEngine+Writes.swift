import BSON
import Query
import Storage

extension SQLiteStorageEngine {
    /// The entry for `namespace`, creating the collection (MongoDB creates on first write).
    static func ensure(_ c: SQLiteConnection, _ entries: inout [Namespace: CollectionEntry], _ namespace: Namespace) throws -> CollectionEntry {
        if let e = entries[namespace] { return e }
        let e = try CatalogSQL.createCollection(c, namespace, options: BSONDocument())
        entries[namespace] = e
        return e
    }

    /// A failed row write together with the document being written (so that a duplicate-key
    /// error reports that document's key values rather than the statement's filter).
    struct DocumentWriteFailure: Error {
        let error: any Error
        let doc: BSONDocument
    }

    /// Runs one row write, tagging a failure with the document written.
    static func writing<T>(_ doc: BSONDocument, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw DocumentWriteFailure(error: error, doc: doc)
        }
    }

    /// Converts a per-document failure into a write error (duplicate keys with their details).
    static func writeError(_ error: any Error, writer: RowWriter, doc: BSONDocument, index: Int) -> WriteError {
        if let failure = error as? DocumentWriteFailure {
            return writeError(failure.error, writer: writer, doc: failure.doc, index: index)
        }
        if let dup = writer.duplicateKeyError(error, doc: doc, index: index) { return dup }
        switch error {
        case let e as StorageError: return WriteError(index: index, error: e)
        case let e as QueryError: return WriteError(index: index, error: StorageError(code: e.code, codeName: e.codeName, message: e.message))
        default: return WriteError(index: index, error: StorageError(.internalError, "\(error)"))
        }
    }

    public func insert(_ documents: [BSONDocument], into namespace: Namespace, ordered: Bool) async throws -> InsertResult {
        let blobs = self.blobs
        return try await mutate { c, entries in
            var writer = RowWriter(c: c, blobs: blobs, entry: try Self.ensure(c, &entries, namespace))
            var inserted = 0
            var errors: [WriteError] = []
            for (i, doc) in documents.enumerated() {
                do {
                    if writer.entry.tableIndexes.isEmpty {
                        // One INSERT: if it fails nothing was written, so no savepoint is needed.
                        _ = try writer.insert(doc)
                    } else {
                        try blobs.savepoint(c) { _ = try writer.insert(doc) }
                    }
                    inserted += 1
                } catch {
                    errors.append(Self.writeError(error, writer: writer, doc: doc, index: i))
                    if ordered { break }
                }
            }
            entries[namespace] = writer.entry
            return InsertResult(inserted: inserted, writeErrors: errors)
        }
    }

    public func update(_ statements: [UpdateStatement], in namespace: Namespace, ordered: Bool) async throws -> UpdateResult {
        let blobs = self.blobs
        return try await mutate { c, entries in
            guard entries[namespace] != nil || statements.contains(where: \.upsert) else { return UpdateResult() }
            var writer = RowWriter(c: c, blobs: blobs, entry: try Self.ensure(c, &entries, namespace))
            var result = UpdateResult()
            for (i, statement) in statements.enumerated() {
                do {
                    try blobs.savepoint(c) {
                        let (matched, modified, upserted) = try Self.runUpdate(statement, writer: &writer)
                        result.matched += matched
                        result.modified += modified
                        if let id = upserted { result.upserted.append((index: i, id: id)) }
                    }
                } catch {
                    result.writeErrors.append(Self.writeError(error, writer: writer, doc: statement.filter.document, index: i))
                    if ordered { break }
                }
            }
            entries[namespace] = writer.entry
            return result
        }
    }

    /// Runs one update statement; returns (matched, modified, upserted `_id`).
    static func runUpdate(_ st: UpdateStatement, writer: inout RowWriter) throws -> (Int, Int, BSONValue?) {
        let plan = try QueryPlanner.plan(filter: st.filter, sort: nil, indexes: usableIndexes(writer.entry))
        var state = QueryState(entry: writer.entry, blobs: writer.blobs, plan: plan, filter: st.filter, skip: 0, limit: 0)
        let rids: [Int64]
        var firstDoc: BSONDocument?
        if st.multi {
            rids = try state.matchingRowIds(writer.c)
        } else if let row = try state.first(writer.c) {
            rids = [row.rid]
            firstDoc = row.doc
        } else {
            rids = []
        }
        if rids.isEmpty {
            guard st.upsert else { return (0, 0, nil) }
            let doc = try upsertDocument(st)
            _ = try writing(doc) { try writer.insert(doc) }
            return (0, 0, doc["_id"] ?? .null)
        }
        var modified = 0
        for rid in rids {
            guard let doc = try firstDoc ?? loadRow(writer.c, entry: writer.entry, blobs: writer.blobs, rid: rid) else { continue }
            let newDoc = try updatedDocument(doc, with: st.update)
            guard newDoc.bytes != doc.bytes else { continue }
            try writing(newDoc) { try writer.replace(rid: rid, old: doc, with: newDoc) }
            modified += 1
        }
        return (rids.count, modified, nil)
    }

    /// Applies an update to a stored document, keeping `_id` first and unchanged.
    static func updatedDocument(_ doc: BSONDocument, with update: UpdateSpec) throws -> BSONDocument {
        let oldId = doc["_id"] ?? .null
        var (newDoc, _) = try update.apply(to: doc)
        if update.isReplacement {
            if let newId = newDoc["_id"] {
                guard IndexKeyEncoder.encode(newId) == IndexKeyEncoder.encode(oldId), newId.type == oldId.type else {
                    throw immutableId(oldId)
                }
            }
            newDoc = newDoc.prepending("_id", oldId)
        } else if let newId = newDoc["_id"], newId.encodedBytes != oldId.encodedBytes || newId.type != oldId.type {
            throw immutableId(oldId)
        }
        guard newDoc.bytes.count <= 16 * 1024 * 1024 else {
            throw StorageError(.bsonObjectTooLarge, "Resulting document after update is larger than 16777216")
        }
        return newDoc
    }

    static func immutableId(_ id: BSONValue) -> StorageError {
        StorageError(.immutableField, "Performing an update on the path '_id' would modify the immutable field '_id'")
    }

    /// The document an upsert inserts: the filter's equality fields, then the update (or the
    /// replacement), with `_id` first (a new ObjectId when neither gives one).
    static func upsertDocument(_ st: UpdateStatement) throws -> BSONDocument {
        let seed = UpdateSpec.upsertSeed(from: st.filter.document)
        var doc: BSONDocument
        if st.update.isReplacement {
            (doc, _) = try st.update.apply(to: seed)
            if doc["_id"] == nil, let id = seed["_id"] { doc = doc.prepending("_id", id) }
        } else {
            (doc, _) = try st.update.apply(to: seed, isUpsertInsert: true)
        }
        if let id = doc["_id"] {
            try StorableId.check(id)
            doc = doc.prepending("_id", id)
        } else {
            doc = doc.prepending("_id", .objectId(ObjectId()))
        }
        guard doc.bytes.count <= 16 * 1024 * 1024 else {
            throw StorageError(.bsonObjectTooLarge, "Resulting document after update is larger than 16777216")
        }
        return doc
    }

    public func delete(_ statements: [DeleteStatement], in namespace: Namespace, ordered: Bool) async throws -> DeleteResult {
        guard catalog.entry(namespace) != nil else { return DeleteResult() }
        let blobs = self.blobs
        return try await mutate { c, entries in
            guard let entry = entries[namespace] else { return DeleteResult() }
            let writer = RowWriter(c: c, blobs: blobs, entry: entry)
            var result = DeleteResult()
            for (i, st) in statements.enumerated() {
                do {
                    try blobs.savepoint(c) {
                        let plan = try QueryPlanner.plan(filter: st.filter, sort: nil, indexes: Self.usableIndexes(entry))
                        var state = QueryState(entry: entry, blobs: blobs, plan: plan, filter: st.filter, skip: 0, limit: 0)
                        if st.limit == 1 {
                            if let row = try state.first(c) {
                                try writer.delete(rid: row.rid, old: row.doc)
                                result.deleted += 1
                            }
                        } else {
                            let rids = try state.matchingRowIds(c)
                            for rid in rids {
                                if entry.tableIndexes.isEmpty {
                                    try writer.delete(rid: rid, old: nil)
                                } else if let doc = try loadRow(c, entry: entry, blobs: blobs, rid: rid) {
                                    try writer.delete(rid: rid, old: doc)
                                }
                            }
                            result.deleted += rids.count
                        }
                    }
                } catch {
                    result.writeErrors.append(Self.writeError(error, writer: writer, doc: st.filter.document, index: i))
                    if ordered { break }
                }
            }
            return result
        }
    }

    public func findAndModify(_ op: FindAndModifyOperation, in namespace: Namespace) async throws -> FindAndModifyResult {
        let blobs = self.blobs
        return try await mutate { c, entries in
            do {
                return try Self.findAndModify(op, in: namespace, c, blobs: blobs, &entries)
            } catch let failure as DocumentWriteFailure {
                // A duplicate key is DuplicateKey (11000), as for the other writes.
                guard let entry = entries[namespace],
                      let dup = RowWriter(c: c, blobs: blobs, entry: entry).duplicateKeyError(failure.error, doc: failure.doc, index: 0)
                else { throw failure.error }
                throw dup.error
            }
        }
    }

    /// The body of `findAndModify`, inside the write transaction.
    static func findAndModify(
        _ op: FindAndModifyOperation, in namespace: Namespace, _ c: SQLiteConnection, blobs: BlobStore,
        _ entries: inout [Namespace: CollectionEntry]
    ) throws -> FindAndModifyResult {
        guard entries[namespace] != nil || op.upsert else {
            return FindAndModifyResult(value: nil, updatedExisting: false, upsertedId: nil, n: 0)
        }
        var writer = RowWriter(c: c, blobs: blobs, entry: try Self.ensure(c, &entries, namespace))
        defer { entries[namespace] = writer.entry }
        let plan = try QueryPlanner.plan(filter: op.filter, sort: op.sort, indexes: Self.usableIndexes(writer.entry))
        var state = QueryState(entry: writer.entry, blobs: writer.blobs, plan: plan, filter: op.filter, skip: 0, limit: 0)
        let row: (rid: Int64, doc: BSONDocument)?
        if let sort = op.sort, !plan.providesSort {
            row = stableSorted(try state.all(c), by: sort).first
        } else {
            row = try state.first(c)
        }
        guard let row else {
            guard op.upsert, let update = op.update else {
                return FindAndModifyResult(value: nil, updatedExisting: false, upsertedId: nil, n: 0)
            }
            let doc = try Self.upsertDocument(UpdateStatement(filter: op.filter, update: update, multi: false, upsert: true))
            _ = try writing(doc) { try writer.insert(doc) }
            return FindAndModifyResult(value: op.returnNew ? doc : nil, updatedExisting: false, upsertedId: doc["_id"], n: 1)
        }
        if op.remove {
            try writer.delete(rid: row.rid, old: row.doc)
            return FindAndModifyResult(value: row.doc, updatedExisting: false, upsertedId: nil, n: 1)
        }
        guard let update = op.update else {
            return FindAndModifyResult(value: row.doc, updatedExisting: true, upsertedId: nil, n: 1)
        }
        let newDoc = try Self.updatedDocument(row.doc, with: update)
        if newDoc.bytes != row.doc.bytes {
            try writing(newDoc) { try writer.replace(rid: row.rid, old: row.doc, with: newDoc) }
        }
        return FindAndModifyResult(value: op.returnNew ? newDoc : row.doc, updatedExisting: true, upsertedId: nil, n: 1)
    }
}
