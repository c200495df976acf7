import BSON
import Query
import Storage

/// A document as the backend stores it: its `_id` key, the built-in GridFS key, and its bytes
/// split around a chunk's binary payload (`head + data + tail` is the document, byte for byte).
/// Other documents are stored whole in `head`. Downloads rebuild chunk documents without parsing.
struct StoredDocument {
    /// Encoded `_id`.
    var idKey: [UInt8]
    /// Encoded built-in key (`files_id`+`n` or `filename`+`uploadDate`), nil when not applicable
    /// or when the document would give several keys (arrays).
    var key: [UInt8]?
    /// The document's bytes.
    let bytes: [UInt8]
    /// Where `data`'s payload lies in `bytes` (chunks only).
    let payload: Range<Int>?

    /// Lays out `doc` for a collection of `kind`.
    init(_ doc: BSONDocument, kind: CollectionKind) {
        bytes = doc.bytes
        idKey = IndexKeyEncoder.encode(doc["_id"] ?? .null)
        if let paths = CollectionEntry.keyColumnPaths(kind),
           let keys = try? IndexKeyEncoder.keys(for: doc, paths: paths), keys.count == 1 {
            key = keys[0]
        } else {
            key = nil
        }
        if kind == .gridFSChunks, let e = doc.element(forKey: "data"), let range = e.binaryPayloadRange {
            payload = range
        } else {
            payload = nil
        }
    }

    /// Binds `head`, `tail`, `data` at `at`, `at+1`, `at+2` without copying, then runs `body`
    /// (which must step the statement) while the bytes are pinned.
    func withParts<T>(_ s: SQLiteStatement, at: Int32, _ body: () throws -> T) throws -> T {
        try bytes.withUnsafeBytes { raw in
            if let payload {
                try s.bindNoCopy(UnsafeRawBufferPointer(rebasing: raw[0..<payload.lowerBound]), at: at)
                try s.bindNoCopy(UnsafeRawBufferPointer(rebasing: raw[payload.upperBound..<raw.count]), at: at + 1)
                try s.bindNoCopy(UnsafeRawBufferPointer(rebasing: raw[payload]), at: at + 2)
            } else {
                try s.bindNoCopy(raw, at: at)
                try s.bindNull(at: at + 1)
                try s.bindNull(at: at + 2)
            }
            return try body()
        }
    }

    /// Reads a document from columns `head`, `data`, `tail` at `at`, `at+1`, `at+2`.
    static func read(_ s: SQLiteStatement, at: Int32) -> BSONDocument? {
        let headCount = s.byteCount(at)
        let dataCount = s.isNull(at + 1) ? 0 : s.byteCount(at + 1)
        let tailCount = s.isNull(at + 2) ? 0 : s.byteCount(at + 2)
        var out = [UInt8]()
        out.reserveCapacity(headCount + dataCount + tailCount)
        s.withBlob(at) { out.append(contentsOf: $0) }
        if dataCount > 0 { s.withBlob(at + 1) { out.append(contentsOf: $0) } }
        if tailCount > 0 { s.withBlob(at + 2) { out.append(contentsOf: $0) } }
        return BSONDocument(storedBytes: out)
    }

    /// SQL column list matching ``read(_:at:)``.
    static let columns = "head, data, tail"
}
