import BSON
import Query
import Storage

/// Cross-checks a GridFS bucket (the same findings as the SQLite engine's check): chunks whose
/// `files_id` has no files document, and files whose chunks are missing, extra or of the wrong
/// size (every chunk `chunkSize` bytes, the last one the remainder). Reads both collections a page
/// at a time.
enum PGGridFSCheck {
    static func run(_ s: PGSession, files: PGCollection, chunks: PGCollection) throws -> [String] {
        var problems: [String] = []
        // files_id key → (n → data length)
        var chunkMap: [[UInt8]: [Int: Int]] = [:]
        var shownIds: [[UInt8]: String] = [:]
        try eachDocument(s, chunks) { doc in
            let fid = doc["files_id"] ?? .null
            let key = IndexKeyEncoder.encode(fid)
            shownIds[key] = BSONDocument([("files_id", fid)]).relaxedValueText
            var length = -1
            if case .binary(let b)? = doc["data"] { length = b.data.count }
            chunkMap[key, default: [:]][doc["n"]?.intValue ?? -1] = length
        }
        var fileIds = Set<[UInt8]>()
        try eachDocument(s, files) { doc in
            let id = doc["_id"] ?? .null
            let key = IndexKeyEncoder.encode(id)
            fileIds.insert(key)
            let shown = BSONDocument([("_id", id)]).relaxedValueText
            guard let length = doc["length"]?.intValue, let chunkSize = doc["chunkSize"]?.intValue, chunkSize > 0, length >= 0 else {
                problems.append("file \(shown) has no valid length or chunkSize")
                return
            }
            let expected = length / chunkSize + (length % chunkSize == 0 ? 0 : 1)
            let have = chunkMap[key] ?? [:]
            // A stored length can be any number a client wrote: never walk billions of chunk numbers.
            guard expected <= have.count + 1_000 else {
                problems.append("file \(shown) declares \(expected) chunks and has \(have.count)")
                return
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
        for key in chunkMap.keys where !fileIds.contains(key) {
            problems.append("orphaned chunks: files_id \(shownIds[key] ?? "?") has no files document")
        }
        return problems
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
