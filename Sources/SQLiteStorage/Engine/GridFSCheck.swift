import BSON
import Query
import Storage

/// Cross-checks a GridFS bucket: chunks whose `files_id` has no files document, and files whose
/// chunks are missing, extra or of the wrong size (every chunk `chunkSize` bytes, the last one the
/// remainder).
enum GridFSCheck {
    static func run(_ c: SQLiteConnection, files: CollectionEntry, chunks: CollectionEntry, blobs: BlobStore) throws -> [String] {
        var problems: [String] = []
        // files_id key → (n → data length)
        var chunkMap: [[UInt8]: [Int: Int]] = [:]
        var shownIds: [[UInt8]: String] = [:]
        try c.withStatement("SELECT \(StoredDocument.columns) FROM \(chunks.table)") { s in
            while try s.step() {
                guard let doc = try? StoredDocument.read(s, at: 0, blobs: blobs) else { continue }
                let fid = doc["files_id"] ?? .null
                let key = IndexKeyEncoder.encode(fid)
                shownIds[key] = "\(BSONDocument([("files_id", fid)]).relaxedValueText)"
                var length = -1
                if case .binary(let b)? = doc["data"] { length = b.data.count }
                chunkMap[key, default: [:]][doc["n"]?.intValue ?? -1] = length
            }
        }
        var fileIds = Set<[UInt8]>()
        try c.withStatement("SELECT \(StoredDocument.columns) FROM \(files.table)") { s in
            while try s.step() {
                guard let doc = try? StoredDocument.read(s, at: 0, blobs: blobs) else { continue }
                let id = doc["_id"] ?? .null
                let key = IndexKeyEncoder.encode(id)
                fileIds.insert(key)
                let shown = BSONDocument([("_id", id)]).relaxedValueText
                guard let length = doc["length"]?.intValue, let chunkSize = doc["chunkSize"]?.intValue, chunkSize > 0, length >= 0 else {
                    problems.append("file \(shown) has no valid length or chunkSize")
                    continue
                }
                // Client-stored numbers: no `length + chunkSize - 1` (overflows at Int.max) and no
                // negative range bound (traps).
                let expected = length / chunkSize + (length % chunkSize == 0 ? 0 : 1)
                let have = chunkMap[key] ?? [:]
                // A stored length can be any number a client wrote: never walk billions of chunk numbers.
                guard expected <= have.count + 1_000 else {
                    problems.append("file \(shown) declares \(expected) chunks and has \(have.count)")
                    continue
                }
                for n in 0..<expected {
                    let size = n == expected - 1 ? length - n * chunkSize : chunkSize
                    guard let got = have[n] else {
                        problems.append("file \(shown) is missing chunk \(n)")
                        continue
                    }
                    if got != size { problems.append("file \(shown) chunk \(n) has \(got) bytes, expected \(size)") }
                }
                for n in have.keys where n < 0 || n >= expected {
                    problems.append("file \(shown) has an extra chunk \(n)")
                }
            }
        }
        for (key, _) in chunkMap where !fileIds.contains(key) {
            problems.append("orphaned chunks: files_id \(shownIds[key] ?? "?") has no files document")
        }
        return problems
    }
}
