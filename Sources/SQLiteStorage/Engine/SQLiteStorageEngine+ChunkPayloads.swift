import BSON
import Query
import Storage

/// GridFS downloads without the query machinery: the chunk rows of one file are walked on the
/// built-in `(files_id, n)` key column in one statement (one cached prepared statement per
/// collection), and each payload is read straight from its segment file (or its row) into the
/// caller's buffer. The row's CRC-32C is checked over `head + payload + tail` as on every read,
/// computed piecewise, so nothing is copied to check it; a mismatch throws before the caller
/// sends the bytes.
extension SQLiteStorageEngine {
    public func readChunkPayloads<Sink: ChunkPayloadSink>(_ request: ChunkPayloadRequest, into sink: inout Sink) async throws -> Int64 {
        guard request.first <= request.last else { return request.first }
        guard let entry = catalog.entry(request.chunks) else { return request.first }
        // The key column is usable only while every chunk produced exactly one key; otherwise (or
        // for a collection that is not a chunks collection) the generic path answers.
        guard entry.kind == .gridFSChunks, let keyIndex = entry.keyColumnIndex, !keyIndex.multikey else {
            return try await readChunkPayloadsByQuery(request, into: &sink)
        }
        let blobs = self.blobs
        let start = sink
        let (filled, next) = try await read { c -> (Sink, Int64) in
            var out = start
            let next = try ChunkPayloadReader(c: c, table: entry.table, blobs: blobs, request: request).read(into: &out)
            return (out, next)
        }
        sink = filled
        return next
    }
}

/// One call's walk over the chunk rows (inside a read transaction).
struct ChunkPayloadReader {
    let c: SQLiteConnection
    let table: String
    let blobs: BlobStore
    let request: ChunkPayloadRequest

    /// The `k` of chunk `n` of the file.
    func key(_ n: Int64) -> [UInt8] { IndexKeyEncoder.encode([request.filesId, .int64(n)]) }

    /// Reads chunks from `request.first` on; returns the next chunk number.
    func read<Sink: ChunkPayloadSink>(into sink: inout Sink) throws -> Int64 {
        let sql = "SELECT k, head, data, tail, seg, off, len, crc FROM \(table) WHERE k >= ? AND k <= ? ORDER BY k, rid"
        return try c.withStatement(sql) { s in
            try s.bind(key(request.first), at: 1)
            try s.bind(key(request.last), at: 2)
            var next = request.first
            var expected = key(next)
            var taken = 0
            while next <= request.last, try s.step() {
                // Anything but the next chunk (a gap, a duplicate, a fractional n) ends the walk:
                // the caller reports the chunk as missing, as a driver would.
                guard s.withBlob(0, { $0.elementsEqual(expected) }) else { break }
                let ref = StoredDocument.ref(s, at: 4)
                let count = ref?.length ?? s.byteCount(2)
                if ref == nil && s.isNull(2) {
                    // No separate payload (a row written whole, e.g. before a rename into a
                    // chunks name): read the verified document and take its `data`.
                    guard try appendWholeRow(s, n: next, into: &sink, taken: &taken) else { break }
                } else {
                    if taken > 0 && taken + count > request.maxBytes { break }
                    try appendSplitRow(s, n: next, ref: ref, count: count, into: &sink)
                    taken += count
                }
                next += 1
                expected = key(next)
            }
            return next
        }
    }

    /// A row stored as `head + payload + tail`: the payload goes straight into the sink, the
    /// checksum is carried across the three parts.
    private func appendSplitRow<Sink: ChunkPayloadSink>(
        _ s: SQLiteStatement, n: Int64, ref: BlobRef?, count: Int, into sink: inout Sink
    ) throws {
        var crc = s.withBlob(1) { PayloadChecksum.extend(0, $0) }
        var failure: Error?
        try sink.append(chunk: n, count: count) { room in
            if let ref {
                do {
                    try blobs.read(ref, into: room)
                } catch {
                    failure = error
                    return
                }
            } else {
                s.withBlob(2) { src in room.copyMemory(from: UnsafeRawBufferPointer(rebasing: src.prefix(room.count))) }
            }
            crc = PayloadChecksum.extend(crc, UnsafeRawBufferPointer(room))
        }
        if let failure {
            DataIntegrity.recordCorruption()
            throw StorageError(.dataCorruptionDetected, "\(describe(n)) cannot be read: \(failure)")
        }
        if !s.isNull(3) { crc = s.withBlob(3) { PayloadChecksum.extend(crc, $0) } }
        if !s.isNull(7) {
            let stored = UInt32(truncatingIfNeeded: s.int64(7))
            if stored != crc {
                DataIntegrity.recordCorruption()
                throw StorageError(.dataCorruptionDetected,
                                   "\(describe(n)) fails its checksum (stored crc32c \(hex(stored)), read \(hex(crc))); the data on disk is damaged and is not served")
            }
        }
    }

    /// A row without a separate payload: the whole document, verified, then its `data` copied.
    /// False when it has no binary `data` (the walk ends there) or would pass `maxBytes`.
    private func appendWholeRow<Sink: ChunkPayloadSink>(
        _ s: SQLiteStatement, n: Int64, into sink: inout Sink, taken: inout Int
    ) throws -> Bool {
        guard let doc = try StoredDocument.read(s, at: 1, blobs: blobs),
              let payload = doc.element(forKey: "data")?.binaryPayloadRange else { return false }
        if taken > 0 && taken + payload.count > request.maxBytes { return false }
        try sink.append(chunk: n, count: payload.count) { room in
            doc.bytes.withUnsafeBytes { src in room.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[payload])) }
        }
        taken += payload.count
        return true
    }

    private func describe(_ n: Int64) -> String {
        "chunk n=\(n) of files_id \(BSONDocument([("v", request.filesId)]).relaxedValueText)"
    }

    private func hex(_ v: UInt32) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}
