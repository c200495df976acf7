import BSON
import Storage

/// `validate`'s GridFS cross-check of a bucket in PostgreSQL: feeds the engine-neutral
/// ``GridFSBucketCheck`` every chunk document, then every files document, a page at a time.
enum PGGridFSCheck {
    static func run(_ s: PGSession, files: PGCollection, chunks: PGCollection) throws -> [String] {
        var check = GridFSBucketCheck()
        try eachDocument(s, chunks) { check.chunk($0) }
        try eachDocument(s, files) { check.file($0) }
        return check.finish()
    }

    /// Every stored document of a collection, in pages of 256 rows.
    private static func eachDocument(_ s: PGSession, _ entry: PGCollection, _ body: (BSONDocument) throws -> Void) throws {
        var last: Int64 = 0
        while true {
            let rows = try s.query("SELECT id, doc FROM \(entry.table) WHERE id > $1 ORDER BY id LIMIT 256", [.int(last)])
            for row in rows {
                last = row.int(0)
                if let doc = row.bytes(1).flatMap({ BSONDocument(storedBytes: $0) }) { try body(doc) }
            }
            if rows.count < 256 { return }
        }
    }
}
