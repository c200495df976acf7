import BSON
import PostgresNIO
import Query
import Storage

extension PGWriter {
    /// Most documents (and bytes) one batch statement carries.
    static let batchDocuments = 1000
    /// A statement carries at most this many bytes of documents: measured (docs/scaling.md), eight
    /// 255 KiB chunks per statement cost PostgreSQL and the daemon less CPU than 64 (a 16 MiB Bind
    /// message and array are copied through memory several times, out of the caches).
    static let batchBytes = 2 << 20
    /// Up to this many documents a statement binds each document as its own parameter; more go
    /// as one `bytea[]` (`unnest`), which keeps the statement text short for many small documents.
    static let rowsAsParameters = 64

    /// Inserts documents with MongoDB's semantics, a batch per statement: the rows and all their
    /// index keys go in one `INSERT … SELECT unnest(…)` with data-modifying CTEs, so 20,000 small
    /// documents or a 16 MiB batch of GridFS chunks cost a few round trips instead of one each.
    /// When a batch meets anything the fast path does not decide itself (a duplicate key, a
    /// document whose keys cannot be built), its rows are removed again and the batch runs through
    /// ``WriteRules/insert(_:ordered:into:)`` document by document, which reports exactly what
    /// MongoDB reports (and, when ordered, stops at the first error).
    mutating func insertAll(_ documents: [BSONDocument], ordered: Bool) throws -> InsertResult {
        let ranges = Self.batchRanges(documents)
        if ranges.count > 1, try insertPipelined(documents, ranges) {
            return InsertResult(inserted: documents.count, writeErrors: [])
        }
        var result = InsertResult(inserted: 0, writeErrors: [])
        for range in ranges {
            let start = range.lowerBound
            let batch = Array(documents[range])
            try OperationDeadline.checkCurrent()
            if batch.count > 1, try insertBatch(batch) {
                result.inserted += batch.count
            } else {
                let one = try WriteRules.insert(batch, ordered: ordered, into: &self)
                result.inserted += one.inserted
                result.writeErrors += one.writeErrors.map { error in
                    var shifted = error
                    shifted.index += start
                    return shifted
                }
                if ordered && !one.writeErrors.isEmpty { break }
            }
        }
        return result
    }

    /// The documents cut into statements: at most ``batchDocuments`` documents and ``batchBytes``
    /// bytes each (a single larger document goes alone).
    static func batchRanges(_ documents: [BSONDocument]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        while start < documents.count {
            var end = start
            var bytes = 0
            while end < documents.count, end - start < batchDocuments,
                  end == start || bytes + documents[end].bytes.count <= batchBytes {
                bytes += documents[end].bytes.count
                end += 1
            }
            ranges.append(start..<end)
            start = end
        }
        return ranges
    }

    /// Every batch statement of a command sent back to back (``PGSession/queryAll(_:)``: one
    /// wait for a 16 MiB GridFS insert instead of eight). True when every batch inserted all of its
    /// rows and keys; otherwise everything the batches inserted is taken out again (nothing failed
    /// in SQL, so the transaction is intact) and false sends the caller down the batch-by-batch path,
    /// which reports MongoDB's per-document errors.
    private mutating func insertPipelined(_ documents: [BSONDocument], _ ranges: [Range<Int>]) throws -> Bool {
        var statements: [(sql: String, values: [PGValue], keyValues: [[[UInt8]]], multikey: [Bool])] = []
        for range in ranges {
            guard range.count > 1, let statement = Self.batchStatement(Array(documents[range]), entry: entry, guarded: nil) else {
                return false
            }
            statements.append(statement)
        }
        try OperationDeadline.checkCurrent()
        let indexes = entry.tableIndexes
        let results = try session.queryAll(statements.map { ($0.sql, $0.values) })
        var complete = true
        var ids: [Int64] = []
        for ((statement, rows), range) in zip(zip(statements, results), ranges) {
            guard let row = rows.first else {
                complete = false
                continue
            }
            if row.int(0) != Int64(range.count) { complete = false }
            for n in indexes.indices where row.int(n + 1) != Int64(statement.keyValues[n].count) { complete = false }
            ids += row.ints(indexes.count + 1)
        }
        if !complete {
            if !ids.isEmpty {
                try session.query("DELETE FROM \(entry.table) WHERE id = ANY($1::int8[])", [.ints(ids)])
                for (n, index) in indexes.enumerated() {
                    let keys = statements.flatMap { $0.keyValues[n] }
                    guard !keys.isEmpty else { continue }
                    try session.query("DELETE FROM \(index.table) WHERE id = ANY($1::int8[]) AND key = ANY($2::bytea[])",
                                      [.ints(ids), .byteArrays(keys)])
                }
            }
            return false
        }
        for (n, index) in indexes.enumerated() where statements.contains(where: { $0.multikey[n] }) {
            try noteMultikey(index, [[], []])
        }
        return true
    }

    /// One statement for the whole batch; false (and nothing left behind) when some document
    /// needs the document-by-document path.
    private mutating func insertBatch(_ batch: [BSONDocument]) throws -> Bool {
        guard let statement = Self.batchStatement(batch, entry: entry, guarded: nil) else { return false }
        let indexes = entry.tableIndexes
        guard let row = try session.query(statement.sql, statement.values).first else { return false }
        var complete = row.int(0) == Int64(batch.count)
        for n in indexes.indices where row.int(n + 1) != Int64(statement.keyValues[n].count) { complete = false }
        if !complete {
            // Take the rows back out (nothing failed in SQL, so the transaction is intact).
            let ids = row.ints(indexes.count + 1)
            if !ids.isEmpty {
                try session.query("DELETE FROM \(entry.table) WHERE id = ANY($1::int8[])", [.ints(ids)])
                for (n, index) in indexes.enumerated() where !statement.keyValues[n].isEmpty {
                    try session.query("DELETE FROM \(index.table) WHERE id = ANY($1::int8[]) AND key = ANY($2::bytea[])",
                                      [.ints(ids), .byteArrays(statement.keyValues[n])])
                }
            }
            return false
        }
        for (n, index) in indexes.enumerated() where statement.multikey[n] { try noteMultikey(index, [[], []]) }
        return true
    }

    /// A batch insert as one statement: the rows and all their index keys, with data-modifying
    /// CTEs. Its result row holds the rows inserted, the keys inserted per key table and the new
    /// record ids. nil when some document needs the document-by-document path (keys that cannot
    /// be built).
    ///
    /// In a transaction (`guarded` nil) clashes are skipped (`ON CONFLICT DO NOTHING`) and show in
    /// the counts. Guarded, it is a statement of its own (autocommit, see
    /// ``PostgresStorageEngine/quickInsert(_:into:)``): it inserts only while the collection's
    /// catalog row still has the given id and version (share-locked, as a write's lookup does),
    /// and any clash fails the whole statement, so it commits everything or nothing.
    static func batchStatement(_ batch: [BSONDocument], entry: PGCollection, guarded: (id: Int64, version: Int64)?)
        -> (sql: String, values: [PGValue], keyValues: [[[UInt8]]], multikey: [Bool])?
    {
        let indexes = entry.tableIndexes
        var idKeys: [[UInt8]] = []
        var docs: [[UInt8]] = []
        let keyColumn = entry.keyColumnIndex
        var fks: [[UInt8]] = []
        var keyOwners: [[[UInt8]]] = Array(repeating: [], count: indexes.count)
        var keyValues: [[[UInt8]]] = Array(repeating: [], count: indexes.count)
        var multikey = Array(repeating: false, count: indexes.count)
        for doc in batch {
            let idKey = IndexKeyEncoder.encode(doc["_id"] ?? .null)
            for (n, index) in indexes.enumerated() {
                guard let keys = try? index.keys(for: doc) else { return nil }
                multikey[n] = multikey[n] || keys.count > 1
                for key in keys {
                    keyOwners[n].append(idKey)
                    keyValues[n].append(key)
                }
            }
            if let keyColumn {
                guard let fk = try? Self.keyColumnKey(keyColumn, doc) else { return nil }
                fks.append(fk)
            }
            idKeys.append(idKey)
            docs.append(doc.bytes)
        }
        var values: [PGValue] = []
        var sql = "WITH "
        var rowFilter = ""
        if let guarded {
            values = [.int(guarded.id), .int(guarded.version)]
            sql += "v AS (SELECT id FROM gl_collections WHERE id = $1 AND version = $2 FOR SHARE), "
            rowFilter = " WHERE EXISTS (SELECT 1 FROM v)"
        }
        let columns = keyColumn != nil ? "k, doc, fk" : "k, doc"
        if batch.count <= Self.rowsAsParameters {
            // Each document its own parameter: PostgreSQL reads it straight from the Bind message
            // (an array parameter is parsed into a second copy first), and no array is built here.
            var rows: [String] = []
            for (i, (idKey, doc)) in zip(idKeys, docs).enumerated() {
                values.append(.bytes(idKey))
                values.append(.bytes(doc))
                if keyColumn != nil {
                    values.append(.bytes(fks[i]))
                    rows.append("($\(values.count - 2)::bytea, $\(values.count - 1)::bytea, $\(values.count)::bytea)")
                } else {
                    rows.append("($\(values.count - 1)::bytea, $\(values.count)::bytea)")
                }
            }
            sql += "d AS (INSERT INTO \(entry.table)(\(columns)) SELECT * FROM (VALUES \(rows.joined(separator: ", "))) AS r\(rowFilter)"
        } else {
            values += [.byteArrays(idKeys), .byteArrays(docs)]
            var arrays = "$\(values.count - 1)::bytea[], $\(values.count)::bytea[]"
            if keyColumn != nil {
                values.append(.byteArrays(fks))
                arrays += ", $\(values.count)::bytea[]"
            }
            sql += "d AS (INSERT INTO \(entry.table)(\(columns)) SELECT * FROM unnest(\(arrays))\(rowFilter)"
        }
        // In a transaction a clash on `_id` (or `fk`) inserts nothing for that document; the count tells.
        let onConflict = guarded == nil ? " ON CONFLICT \(keyColumn != nil ? "" : "(k) ")DO NOTHING" : ""
        sql += "\(onConflict) RETURNING id, k)"
        var counts = ["(SELECT count(*) FROM d)"]
        for (n, index) in indexes.enumerated() {
            values.append(.byteArrays(keyOwners[n]))
            values.append(.byteArrays(keyValues[n]))
            sql += ", x\(n) AS (INSERT INTO \(index.table)(key, id) SELECT u.key, d.id FROM unnest($\(values.count - 1)::bytea[], $\(values.count)::bytea[]) AS u(k, key)"
                + " JOIN d ON d.k = u.k\(guarded == nil ? " ON CONFLICT DO NOTHING" : "") RETURNING 1)"
            counts.append("(SELECT count(*) FROM x\(n))")
        }
        sql += " SELECT " + counts.joined(separator: ", ") + ", (SELECT array_agg(id) FROM d)"
        return (sql, values, keyValues, multikey)
    }
}
