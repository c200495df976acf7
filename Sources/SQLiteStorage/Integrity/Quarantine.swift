import BSON
import Foundation
import Logging
import Query
import Storage

/// Moving a damaged file out of its bucket into `<bucket>.quarantine` (a GridFS bucket of its own,
/// so drivers can list and inspect it): the files document gains `quarantine: {reason, at}` and
/// every chunk row moves as it is (its payload reference and checksum unchanged, so a damaged
/// chunk still fails its check there). A payload that can no longer be read at all (segment
/// missing or truncated) is detached from the segment files and kept as zero bytes of its length,
/// so compaction and later appends never touch a reference into bytes that are gone. Nothing is
/// deleted. Runs inside the repair's write transaction.
enum Quarantine {
    static func move(_ file: FsckChecker.DamagedFile, c: SQLiteConnection, entries: inout [Namespace: CollectionEntry],
                     blobs: BlobStore, logger: Logger, at now: Date) throws -> String? {
        let byTable = Dictionary(entries.values.map { ($0.table, $0) }, uniquingKeysWith: { a, _ in a })
        guard let filesEntry = byTable[file.filesTable] else { return nil }
        let target = "\(file.bucket).quarantine"
        let qFilesNS = Namespace(unchecked: file.database, "\(target).files")
        let qChunksNS = Namespace(unchecked: file.database, "\(target).chunks")
        var qFiles = try SQLiteStorageEngine.ensure(c, &entries, qFilesNS)
        let qChunks = try SQLiteStorageEngine.ensure(c, &entries, qChunksNS)

        // The files document, marked.
        guard let old = try c.withStatement("SELECT \(StoredDocument.columns) FROM \(filesEntry.table) WHERE rid = ?", { s -> BSONDocument? in
            try s.bind(file.filesRid, at: 1)
            guard try s.step(), let parts = StoredDocument.readParts(s, at: 0, blobs: blobs) else { return nil }
            return BSONDocument(storedBytes: parts.bytes)
        }) else { return nil }
        var marked = BSONDocument(old.pairs.filter { $0.key != "quarantine" }.map { ($0.key, $0.value) })
        marked.append("quarantine", .document([
            "reason": .string(file.reasons.joined(separator: "; ")),
            "at": .datetime(Int64(now.timeIntervalSince1970 * 1000)),
            "fromBucket": .string(file.bucket),
        ]))
        var fromWriter = RowWriter(c: c, blobs: blobs, entry: filesEntry, logger: logger)
        fromWriter.verifyChecksums = false
        try fromWriter.delete(file.filesRid, old: old)
        var toWriter = RowWriter(c: c, blobs: blobs, entry: qFiles, logger: logger)
        if let existing = try c.withStatement("SELECT rid FROM \(qFiles.table) WHERE id_key = ?", { s -> Int64? in
            try s.bind(file.idKey, at: 1)
            return try s.step() ? s.int64(0) : nil
        }) {
            // Quarantined before under the same id: the newer copy replaces the older files document.
            try toWriter.delete(existing, old: nil)
        }
        _ = try toWriter.insert(marked)
        qFiles = toWriter.entry
        entries[qFilesNS] = qFiles
        entries[filesEntry.namespace] = fromWriter.entry

        // The chunks, moved row by row.
        var moved = 0
        if let chunksTable = file.chunksTable, let chunksEntry = byTable[chunksTable] {
            for rid in file.chunkRids {
                try c.withStatement("""
                    INSERT INTO \(qChunks.table)(id_key, k, head, tail, data, seg, off, len, crc)
                    SELECT id_key, k, head, tail, data, seg, off, len, crc FROM \(chunksEntry.table) WHERE rid = ?
                    """) { s in
                    try s.bind(rid, at: 1)
                    try s.run()
                }
                let newRid = c.lastInsertRowID
                for index in chunksEntry.tableIndexes {
                    _ = try c.execute("DELETE FROM \(index.table) WHERE rid = ?", [.integer(rid)])
                }
                _ = try c.execute("DELETE FROM \(chunksEntry.table) WHERE rid = ?", [.integer(rid)])
                try detachIfUnreadable(c, table: qChunks.table, rid: newRid, blobs: blobs)
                moved += 1
            }
        }
        let shown = FsckChecker.show(old["_id"] ?? .null)
        return "quarantined file \(shown) of \(file.database).\(file.bucket) (\(moved) chunk(s)) in \(file.database).\(target): \(file.reasons.joined(separator: "; "))"
    }

    /// Replaces a payload reference whose bytes cannot be read by `len` zero bytes in the row.
    private static func detachIfUnreadable(_ c: SQLiteConnection, table: String, rid: Int64, blobs: BlobStore) throws {
        guard let ref = try c.withStatement("SELECT seg, off, len FROM \(table) WHERE rid = ?", { s -> BlobRef? in
            try s.bind(rid, at: 1)
            return try s.step() ? StoredDocument.ref(s, at: 0) : nil
        }) else { return }
        var buffer = [UInt8](repeating: 0, count: ref.length)
        let readable = (try? buffer.withUnsafeMutableBytes { try blobs.read(ref, into: $0) }) != nil
        guard !readable else { return }
        _ = try c.execute("UPDATE \(table) SET data = zeroblob(?), seg = NULL, off = NULL, len = NULL WHERE rid = ?",
                          [.integer(Int64(ref.length)), .integer(rid)])
    }
}
