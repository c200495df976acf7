import BSON
import Query

/// MongoDB's write semantics — insert, update, upsert, delete, findAndModify — written once over
/// a backend's ``CollectionWriter``. Each function runs inside the backend's write transaction;
/// per-document failures become `writeErrors` (ordered writes stop at the first), duplicate keys
/// become 11000 with `keyPattern`/`keyValue`.
///
/// The operation's deadline (``OperationDeadline/current``, from `maxTimeMS`) is checked before
/// every document and statement and while scanning; when it has passed, the function throws 50
/// MaxTimeMSExpired instead of recording a write error, so the backend rolls the whole transaction
/// back: an expired write leaves nothing behind (never the first half of a batch).
public enum WriteRules {
    /// Inserts documents (each already carries `_id`).
    public static func insert<W: CollectionWriter>(_ documents: [BSONDocument], ordered: Bool, into w: inout W) throws -> InsertResult {
        var inserted = 0
        var errors: [WriteError] = []
        let deadline = OperationDeadline.current
        for (i, doc) in documents.enumerated() {
            try deadline?.check()
            do {
                _ = try w.insert(doc)
                inserted += 1
            } catch {
                errors.append(writeError(error, doc: doc, index: i, writer: w))
                if ordered { break }
            }
        }
        return InsertResult(inserted: inserted, writeErrors: errors)
    }

    /// Runs update statements, each atomically.
    public static func update<W: CollectionWriter>(_ statements: [UpdateStatement], ordered: Bool, in w: inout W) throws -> UpdateResult {
        var result = UpdateResult()
        let deadline = OperationDeadline.current
        for (i, statement) in statements.enumerated() {
            try deadline?.check()
            do {
                let (matched, modified, upserted) = try w.atomically { w in try runUpdate(statement, &w) }
                result.matched += matched
                result.modified += modified
                if let id = upserted { result.upserted.append((index: i, id: id)) }
            } catch {
                try rethrowIfExpired(error)
                result.writeErrors.append(writeError(error, doc: statement.filter.document, index: i, writer: w))
                if ordered { break }
            }
        }
        return result
    }

    /// Runs one update statement; returns (matched, modified, upserted `_id`).
    static func runUpdate<W: CollectionWriter>(_ st: UpdateStatement, _ w: inout W) throws -> (Int, Int, BSONValue?) {
        var progress = QueryProgress(
            plan: try QueryPlanner.plan(filter: st.filter, sort: nil, indexes: w.plannableIndexes), filter: st.filter, skip: 0, limit: 0)
        let ids: [RecordID]
        var firstDoc: BSONDocument?
        if st.multi {
            ids = try progress.matchingIDs(w)
        } else if let row = try progress.first(w) {
            ids = [row.id]
            firstDoc = row.doc
        } else {
            ids = []
        }
        if ids.isEmpty {
            guard st.upsert else { return (0, 0, nil) }
            let doc = try UpdateRules.upsertDocument(filter: st.filter, update: st.update)
            _ = try writing(doc) { try w.insert(doc) }
            return (0, 0, doc["_id"] ?? .null)
        }
        var modified = 0
        for id in ids {
            guard let doc = try firstDoc ?? w.load(id) else { continue }
            let newDoc = try UpdateRules.updated(doc, with: st.update)
            guard newDoc.bytes != doc.bytes else { continue }
            try writing(newDoc) { try w.replace(id, old: doc, with: newDoc) }
            modified += 1
        }
        return (ids.count, modified, nil)
    }

    /// Runs delete statements, each atomically.
    public static func delete<W: CollectionWriter>(_ statements: [DeleteStatement], ordered: Bool, in w: inout W) throws -> DeleteResult {
        var result = DeleteResult()
        let deadline = OperationDeadline.current
        for (i, st) in statements.enumerated() {
            try deadline?.check()
            do {
                result.deleted += try w.atomically { w in
                    var progress = QueryProgress(
                        plan: try QueryPlanner.plan(filter: st.filter, sort: nil, indexes: w.plannableIndexes),
                        filter: st.filter, skip: 0, limit: 0)
                    if st.limit == 1 {
                        guard let row = try progress.first(w) else { return 0 }
                        try w.delete(row.id, old: row.doc)
                        return 1
                    }
                    let ids = try progress.matchingIDs(w)
                    for id in ids { try w.delete(id, old: nil) }
                    return ids.count
                }
            } catch {
                try rethrowIfExpired(error)
                result.writeErrors.append(writeError(error, doc: st.filter.document, index: i, writer: w))
                if ordered { break }
            }
        }
        return result
    }

    /// Finds one document (the first in `sort` order) and removes, updates or replaces it, or
    /// upserts; a duplicate key throws 11000.
    public static func findAndModify<W: CollectionWriter>(_ op: FindAndModifyOperation, in w: inout W) throws -> FindAndModifyResult {
        try OperationDeadline.checkCurrent()
        do {
            return try runFindAndModify(op, &w)
        } catch let failure as DocumentWriteFailure {
            throw writeError(failure, doc: failure.doc, index: 0, writer: w).error
        }
    }

    private static func runFindAndModify<W: CollectionWriter>(_ op: FindAndModifyOperation, _ w: inout W) throws -> FindAndModifyResult {
        let plan = try QueryPlanner.plan(filter: op.filter, sort: op.sort, indexes: w.plannableIndexes)
        var progress = QueryProgress(plan: plan, filter: op.filter, skip: 0, limit: 0)
        let row: (id: RecordID, doc: BSONDocument)?
        if let sort = op.sort, !plan.providesSort {
            progress.limitRemaining = 1
            row = try progress.sorted(w, by: sort, memoryLimit: blockingSortMemoryLimit).first
        } else {
            row = try progress.first(w)
        }
        guard let row else {
            guard op.upsert, let update = op.update else {
                return FindAndModifyResult(value: nil, updatedExisting: false, upsertedId: nil, n: 0)
            }
            let doc = try UpdateRules.upsertDocument(filter: op.filter, update: update)
            _ = try writing(doc) { try w.insert(doc) }
            return FindAndModifyResult(value: op.returnNew ? doc : nil, updatedExisting: false, upsertedId: doc["_id"], n: 1)
        }
        if op.remove {
            try w.delete(row.id, old: row.doc)
            return FindAndModifyResult(value: row.doc, updatedExisting: false, upsertedId: nil, n: 1)
        }
        guard let update = op.update else {
            return FindAndModifyResult(value: row.doc, updatedExisting: true, upsertedId: nil, n: 1)
        }
        let newDoc = try UpdateRules.updated(row.doc, with: update)
        if newDoc.bytes != row.doc.bytes {
            try writing(newDoc) { try w.replace(row.id, old: row.doc, with: newDoc) }
        }
        return FindAndModifyResult(value: op.returnNew ? newDoc : row.doc, updatedExisting: true, upsertedId: nil, n: 1)
    }

    /// Lets a passed deadline escape the per-statement error handling (it fails the command and
    /// rolls its transaction back; it is never one statement's write error).
    static func rethrowIfExpired(_ error: any Error) throws {
        if let e = error as? MongoError, e.code == ErrorCode.maxTimeMSExpired.rawValue { throw e }
    }

    /// A failed record write together with the document being written (so that a duplicate-key
    /// error reports that document's key values rather than the statement's filter).
    struct DocumentWriteFailure: Error {
        let error: any Error
        let doc: BSONDocument
    }

    /// Runs one record write, tagging a failure with the document written.
    static func writing<T>(_ doc: BSONDocument, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw DocumentWriteFailure(error: error, doc: doc)
        }
    }

    /// Converts a per-document failure into a write error (duplicate keys with their details).
    /// Errors without a MongoDB code become InternalError with a plain message: backend details
    /// (SQL text and the like) are for the server log, never for the client.
    public static func writeError(_ error: any Error, doc: BSONDocument, index: Int, writer: some CollectionWriter) -> WriteError {
        switch error {
        case let failure as DocumentWriteFailure:
            return writeError(failure.error, doc: failure.doc, index: index, writer: writer)
        case let violation as UniqueIndexViolation:
            let spec = writer.indexSpec(named: violation.indexName) ?? DuplicateKeyReport.idIndexSpec
            return DuplicateKeyReport.writeError(spec, doc: doc, namespace: writer.namespace, index: index)
        case let e as MongoError:
            return WriteError(index: index, error: e)
        default:
            return WriteError(index: index, error: StorageError(.internalError, "internal storage error"))
        }
    }
}
