import BSON
import Storage

/// `validate`'s GridFS cross-check of a bucket in SQLite: feeds the engine-neutral
/// ``GridFSBucketCheck`` every chunk document, then every files document (payloads read through
/// their checksums; a row that cannot be read is reported by `validate`'s own pass).
enum GridFSCheck {
    static func run(_ c: SQLiteConnection, files: CollectionEntry, chunks: CollectionEntry, blobs: BlobStore) throws -> [String] {
        var check = GridFSBucketCheck()
        try c.withStatement("SELECT \(StoredDocument.columns) FROM \(chunks.table)") { s in
            while try s.step() {
                if let doc = try? StoredDocument.read(s, at: 0, blobs: blobs) { check.chunk(doc) }
            }
        }
        try c.withStatement("SELECT \(StoredDocument.columns) FROM \(files.table)") { s in
            while try s.step() {
                if let doc = try? StoredDocument.read(s, at: 0, blobs: blobs) { check.file(doc) }
            }
        }
        return check.finish()
    }
}
