import BSON
import Query
import Storage

extension PGWriter {
    /// Most documents (and bytes) one batch statement carries.
    static let batchDocuments = 1000
    static let batchBytes = 16 << 20

    /// Inserts documents with MongoDB's semantics, a batch per statement: the rows and all their
    /// index keys go in one `INSERT … SELECT unnest(…)` with data-modifying CTEs, so 20,000 small
    /// documents or a 16 MiB batch of GridFS chunks cost a few round trips instead of one each.
    /// When a batch meets anything the fast path does not decide itself (a duplicate key, a
    /// document whose keys cannot be built), its rows are removed again and the batch runs through
    /// ``WriteRules/insert(_:ordered:into:)`` document by document, which reports exactly what
    /// MongoDB reports (and, when ordered, stops at the first error).
    mutating func insertAll(_ documents: [BSONDocument], ordered: Bool) throws -> InsertResult {
        var result = InsertResult(inserted: 0, writeErrors: [])
        var start = 0
        while start < documents.count {
            var end = start
            var bytes = 0
            while end < documents.count, end - start < Self.batchDocuments,
                  end == start || bytes + documents[end].bytes.count <= Self.batchBytes {
                bytes += documents[end].bytes.count
                end += 1
            }
            let batch = Array(documents[start..<end])
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
            start = end
        }
        return result
    }

    /// One statement for the whole batch; false (and nothing left behind) when some document
    /// needs the document-by-document path.
    private mutating func insertBatch(_ batch: [BSONDocument]) throws -> Bool {
        let indexes = entry.tableIndexes
        var idKeys: [[UInt8]] = []
        var docs: [[UInt8]] = []
        var keyOwners: [[[UInt8]]] = Array(repeating: [], count: indexes.count)
        var keyValues: [[[UInt8]]] = Array(repeating: [], count: indexes.count)
        var multikey = Array(repeating: false, count: indexes.count)
        for doc in batch {
            let idKey = IndexKeyEncoder.encode(doc["_id"] ?? .null)
            for (n, index) in indexes.enumerated() {
                guard let keys = try? index.keys(for: doc) else { return false }
                multikey[n] = multikey[n] || keys.count > 1
                for key in keys {
                    keyOwners[n].append(idKey)
                    keyValues[n].append(key)
                }
            }
            idKeys.append(idKey)
            docs.append(doc.bytes)
        }
        var values: [PGValue] = [.byteArrays(idKeys), .byteArrays(docs)]
        var sql = "WITH d AS (INSERT INTO \(entry.table)(k, doc) SELECT * FROM unnest($1::bytea[], $2::bytea[]) ON CONFLICT (k) DO NOTHING RETURNING id, k)"
        var counts = ["(SELECT count(*) FROM d)"]
        for (n, index) in indexes.enumerated() {
            values.append(.byteArrays(keyOwners[n]))
            values.append(.byteArrays(keyValues[n]))
            sql += ", x\(n) AS (INSERT INTO \(index.table)(key, id) SELECT u.key, d.id FROM unnest($\(values.count - 1)::bytea[], $\(values.count)::bytea[]) AS u(k, key)"
                + " JOIN d ON d.k = u.k ON CONFLICT DO NOTHING RETURNING 1)"
            counts.append("(SELECT count(*) FROM x\(n))")
        }
        sql += " SELECT " + counts.joined(separator: ", ") + ", (SELECT array_agg(id) FROM d)"
        guard let row = try session.query(sql, values).first else { return false }
        var complete = row.int(0) == Int64(batch.count)
        for n in indexes.indices where row.int(n + 1) != Int64(keyValues[n].count) { complete = false }
        if !complete {
            // Take the rows back out (nothing failed in SQL, so the transaction is intact).
            let ids = row.ints(indexes.count + 1)
            if !ids.isEmpty {
                try session.query("DELETE FROM \(entry.table) WHERE id = ANY($1::int8[])", [.ints(ids)])
                for (n, index) in indexes.enumerated() where !keyValues[n].isEmpty {
                    try session.query("DELETE FROM \(index.table) WHERE id = ANY($1::int8[]) AND key = ANY($2::bytea[])",
                                      [.ints(ids), .byteArrays(keyValues[n])])
                }
            }
            return false
        }
        for (n, index) in indexes.enumerated() where multikey[n] { try noteMultikey(index, [[], []]) }
        return true
    }
}
