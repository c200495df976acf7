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

    /// The CRC-32C of the whole document (`head + payload + tail`), stored in the row's `crc`
    /// column and checked on every read.
    var checksum: UInt32 { bytes.withUnsafeBytes { PayloadChecksum.compute($0) } }

    /// Binds `head`, `tail`, `data`, `seg`, `off`, `len`, `crc` at `at`…`at+6` without copying, then
    /// runs `body` (which must step the statement) while the bytes are pinned. With `ref`, the
    /// payload lives in a segment file and `data` is NULL.
    func withParts<T>(_ s: SQLiteStatement, at: Int32, ref: BlobRef?, _ body: () throws -> T) throws -> T {
        if PayloadChecksum.benchDisabled { try s.bindNull(at: at + 6) } else { try s.bind(Int64(checksum), at: at + 6) }
        if let ref {
            try s.bind(ref.segment, at: at + 3)
            try s.bind(ref.offset, at: at + 4)
            try s.bind(ref.length, at: at + 5)
        } else {
            for i: Int32 in 3...5 { try s.bindNull(at: at + i) }
        }
        return try bytes.withUnsafeBytes { raw in
            if let payload {
                try s.bindNoCopy(UnsafeRawBufferPointer(rebasing: raw[0..<payload.lowerBound]), at: at)
                try s.bindNoCopy(UnsafeRawBufferPointer(rebasing: raw[payload.upperBound..<raw.count]), at: at + 1)
                if ref == nil {
                    try s.bindNoCopy(UnsafeRawBufferPointer(rebasing: raw[payload]), at: at + 2)
                } else {
                    try s.bindNull(at: at + 2)
                }
            } else {
                try s.bindNoCopy(raw, at: at)
                try s.bindNull(at: at + 1)
                try s.bindNull(at: at + 2)
            }
            return try body()
        }
    }

    /// Runs `body` with the payload's bytes (chunks only).
    func withPayload<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T? {
        guard let payload else { return nil }
        return try bytes.withUnsafeBytes { raw in try body(UnsafeRawBufferPointer(rebasing: raw[payload])) }
    }

    /// Reads the payload reference in columns `seg`, `off`, `len` starting at `at`, if any.
    static func ref(_ s: SQLiteStatement, at: Int32) -> BlobRef? {
        guard !s.isNull(at) else { return nil }
        return BlobRef(segment: s.int64(at), offset: s.int64(at + 1), length: Int(s.int64(at + 2)))
    }

    /// Reads a document from columns `head`, `data`, `tail`, `seg`, `off`, `len`, `crc` at
    /// `at`…`at+6`; a payload in a segment file is read straight into the document's buffer. Nil
    /// when the bytes are not a well-framed document; throws when a segment cannot be read, and
    /// DataCorruptionDetected (301) when `verify` is set and the bytes do not match the row's
    /// checksum (wrong bytes are never returned).
    static func read(_ s: SQLiteStatement, at: Int32, blobs: BlobStore, verify: Bool = true) throws -> BSONDocument? {
        guard let out = try readBytes(s, at: at, blobs: blobs) else { return nil }
        if verify, !PayloadChecksum.benchDisabled, !s.isNull(at + 6) {
            let expected = UInt32(truncatingIfNeeded: s.int64(at + 6))
            let actual = out.withUnsafeBytes { PayloadChecksum.compute($0) }
            if actual != expected { throw PayloadChecksum.mismatch(out, expected: expected, actual: actual) }
        }
        return BSONDocument(storedBytes: out)
    }

    /// The stored bytes of the row (`head + payload + tail`), unverified. Nil when the payload
    /// length is out of range; throws when a segment cannot be read.
    static func readBytes(_ s: SQLiteStatement, at: Int32, blobs: BlobStore) throws -> [UInt8]? {
        guard let (out, unreadable) = readParts(s, at: at, blobs: blobs) else { return nil }
        if let unreadable { throw PayloadChecksum.unreadable(out, reason: unreadable) }
        return out
    }

    /// The stored bytes of the row, with a payload that could not be read zero-filled and the
    /// reason it could not (nil when it was read). Nil when the payload length is out of range.
    static func readParts(_ s: SQLiteStatement, at: Int32, blobs: BlobStore) -> (bytes: [UInt8], unreadable: String?)? {
        let headCount = s.byteCount(at)
        let ref = ref(s, at: at + 3)
        let dataCount = ref?.length ?? (s.isNull(at + 1) ? 0 : s.byteCount(at + 1))
        let tailCount = s.isNull(at + 2) ? 0 : s.byteCount(at + 2)
        let total = headCount + dataCount + tailCount
        guard dataCount >= 0, dataCount <= Int(Int32.max) else { return nil }
        var unreadable: String?
        let out = [UInt8](unsafeUninitializedCapacity: total) { buffer, count in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            var filled = 0
            func take(_ column: Int32, _ expected: Int) {
                s.withBlob(column) { src in
                    let n = min(src.count, expected)
                    if n > 0, let from = src.baseAddress, let to = raw.baseAddress { (to + filled).copyMemory(from: from, byteCount: n) }
                    if n < expected, let to = raw.baseAddress { (to + filled + n).initializeMemory(as: UInt8.self, repeating: 0, count: expected - n) }
                }
                filled += expected
            }
            take(at, headCount)
            if let ref {
                let target = UnsafeMutableRawBufferPointer(rebasing: raw[filled..<filled + dataCount])
                do {
                    try blobs.read(ref, into: target)
                } catch {
                    target.initializeMemory(as: UInt8.self, repeating: 0)
                    unreadable = "\(error)"
                }
                filled += dataCount
            } else if dataCount > 0 {
                take(at + 1, dataCount)
            }
            if tailCount > 0 { take(at + 2, tailCount) }
            count = total
        }
        return (out, unreadable)
    }

    /// SQL column list matching ``read(_:at:blobs:)``.
    static let columns = "head, data, tail, seg, off, len, crc"

    /// The same columns qualified with a table alias.
    static func columns(_ alias: String) -> String {
        ["head", "data", "tail", "seg", "off", "len", "crc"].map { "\(alias).\($0)" }.joined(separator: ", ")
    }
}
