import BSON
import Query

/// The GridFS rule behind `validate` on a bucket's collections, engine-neutral: an engine feeds
/// every chunk document, then every files document, and gets the findings as warnings — chunks
/// whose `files_id` has no files document, and files whose chunks are missing, extra or of the
/// wrong size (every chunk `chunkSize` bytes, the last one the remainder).
///
/// `length` and `chunkSize` are whatever a client stored: no `length + chunkSize - 1` (it overflows
/// at Int.max), no negative range bound, and never a walk over more than 1,000 chunk numbers past
/// those present (a `length` of 2^63 with `chunkSize: 1` is one warning, not 2^63 steps).
public struct GridFSBucketCheck: Sendable {
    /// files_id key → (n → data length, -1 when `data` is not binary).
    private var chunkMap: [[UInt8]: [Int: Int]] = [:]
    private var shownIds: [[UInt8]: String] = [:]
    private var fileIds = Set<[UInt8]>()
    /// What is wrong so far (``finish()`` adds the orphans).
    public private(set) var problems: [String] = []

    /// An empty check.
    public init() {}

    /// Records one chunk document (call for every chunk before the first ``file(_:)``).
    public mutating func chunk(_ doc: BSONDocument) {
        let fid = doc["files_id"] ?? .null
        let key = IndexKeyEncoder.encode(fid)
        shownIds[key] = BSONDocument([("files_id", fid)]).relaxedValueText
        var length = -1
        if case .binary(let b)? = doc["data"] { length = b.data.count }
        chunkMap[key, default: [:]][doc["n"]?.intValue ?? -1] = length
    }

    /// Checks one files document against the chunks recorded.
    public mutating func file(_ doc: BSONDocument) {
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
        for n in have.keys.sorted() where n < 0 || n >= expected {
            problems.append("file \(shown) has an extra chunk \(n)")
        }
    }

    /// The findings, with the orphans (chunks of a `files_id` no files document has) last.
    public mutating func finish() -> [String] {
        for key in chunkMap.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) where !fileIds.contains(key) {
            problems.append("orphaned chunks: files_id \(shownIds[key] ?? "?") has no files document")
        }
        return problems
    }
}
