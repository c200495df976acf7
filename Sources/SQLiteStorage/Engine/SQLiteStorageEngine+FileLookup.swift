import BSON
import Query
import Storage

/// GridFS files lookups without the query machinery (no planner, cursor or actor hop): one
/// cached statement on the `_id` column, or on the built-in `(filename, uploadDate)` key column,
/// walked in the order the generic plan would walk it (`k`, then row id; reversed for the newest
/// first), every row re-checked against the lookup's filter before it counts, as a find does.
/// Nothing is cached, so a deleted or replaced file is never served.
extension SQLiteStorageEngine {
    public func findGridFSFile(_ lookup: GridFSFileLookup, in files: Namespace) async throws -> BSONDocument? {
        guard let entry = catalog.entry(files) else { return nil }
        let key: [UInt8]
        let column: String
        let order: String
        switch lookup {
        case .id(let id):
            key = IndexKeyEncoder.encode(id)
            column = "id_key"
            order = "id_key"
        case .name(let name, _):
            // Only while every files document produced one key (no array filenames) does the key
            // column hold them all; otherwise the generic plan decides.
            guard entry.kind == .gridFSFiles, let keyIndex = entry.keyColumnIndex, !keyIndex.multikey else {
                return try await findGridFSFileByQuery(lookup, in: files)
            }
            key = IndexKeyEncoder.encode(.string(name))
            column = "k"
            order = lookup.skipAndOrder.newestFirst ? "k DESC, rid DESC" : "k, rid"
        }
        let range = KeyRange.prefix(key)
        let filter = try lookup.filter()
        let skip = lookup.skipAndOrder.skip
        let blobs = self.blobs
        var conditions = ["\(column) >= ?"]
        if range.upper != nil { conditions.append("\(column) < ?") }
        let sql = "SELECT \(StoredDocument.columns) FROM \(entry.table) WHERE \(conditions.joined(separator: " AND ")) ORDER BY \(order)"
        return try await read { c -> BSONDocument? in
            try c.withStatement(sql) { s in
                try s.bind(range.lower ?? key, at: 1)
                if let upper = range.upper { try s.bind(upper, at: 2) }
                var passed = 0
                while try s.step() {
                    guard let doc = try StoredDocument.read(s, at: 0, blobs: blobs), filter.matches(doc) else { continue }
                    if passed == skip { return doc }
                    passed += 1
                }
                return nil
            }
        }
    }
}
