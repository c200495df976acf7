import BSON
import Foundation
import Query
import Storage

/// The checks of `gridlite fsck`, run on one connection inside one read transaction (the caller
/// opens it), against a ``BlobStore`` that can read the segments the snapshot references. Fills
/// a ``FsckReport`` and remembers what `--repair` needs (rows to delete, files to quarantine).
struct FsckChecker {
    let c: SQLiteConnection
    let blobs: BlobStore
    /// Every segment `gl_segments` lists: recorded sealed size, and file size (-1: no file).
    let segments: [Int64: (sealed: Int64?, size: Int64)]
    let entries: [CollectionEntry]
    let options: FsckOptions
    /// True when a daemon may be writing (the active segment may end with uncommitted bytes).
    let online: Bool
    var report: FsckReport

    /// One chunk row as the bucket checks see it.
    struct ChunkRow {
        var rid: Int64
        var length: Int
        var damaged: Bool
    }

    /// A file that `--repair` moves to quarantine.
    struct DamagedFile {
        var database: String
        var bucket: String
        var idKey: [UInt8]
        var reasons: [String]
        /// The files document's row and table.
        var filesRid: Int64
        var filesTable: String
        /// The chunks table and the rows of this file in it (duplicates repair deletes excluded).
        var chunksTable: String?
        var chunkRids: [Int64]
    }

    /// A chunk row that `--repair` may delete.
    struct DoomedRow {
        var table: String
        var rid: Int64
        /// Orphans: the `files_id`, whose ObjectId time decides whether the grace period has passed.
        var filesId: BSONValue?
        /// Orphans younger than the grace period when young orphans are not problems (an upload in flight).
        var inFlight = false
    }

    var damagedFiles: [DamagedFile] = []
    var duplicateRows: [DoomedRow] = []
    var orphanRows: [DoomedRow] = []
    private var progress = FsckProgress(documents: 0, totalDocuments: 0, bytes: 0, totalBytes: 0)
    private var lastProgress = ContinuousClock.now

    init(c: SQLiteConnection, blobs: BlobStore, segments: [Int64: (sealed: Int64?, size: Int64)], entries: [CollectionEntry],
         options: FsckOptions, online: Bool, dataDirectory: String) {
        self.c = c
        self.blobs = blobs
        self.segments = segments
        self.entries = entries
        self.options = options
        self.online = online
        self.report = FsckReport(mode: online ? "online" : "offline", dataDirectory: dataDirectory)
    }

    /// The collections in scope.
    var scope: [CollectionEntry] {
        entries.filter { e in
            if let db = options.database, e.namespace.database != db { return false }
            if let bucket = options.bucket {
                guard let name = e.namespace.bucketName else { return false }
                return name == bucket || name == bucket + ".quarantine"
            }
            return true
        }.sorted { $0.namespace < $1.namespace }
    }

    mutating func run() throws {
        let started = ContinuousClock.now
        try checkSQLite()
        let inScope = scope
        for e in inScope {
            progress.totalDocuments += try c.withStatement("SELECT count(*), COALESCE(SUM(len), 0) FROM \(e.table)") { s in
                guard try s.step() else { return 0 }
                progress.totalBytes += s.int64(1)
                return Int(s.int64(0))
            }
        }
        // Buckets: pairs of <b>.files / <b>.chunks; other collections get the checksum pass only.
        var buckets: [String: (files: CollectionEntry?, chunks: CollectionEntry?)] = [:]
        for e in inScope {
            guard let bucket = e.namespace.bucketName, e.kind == .gridFSFiles || e.kind == .gridFSChunks else {
                try checkPlain(e)
                continue
            }
            let key = "\(e.namespace.database)\u{0}\(bucket)"
            if e.kind == .gridFSFiles { buckets[key, default: (nil, nil)].files = e } else { buckets[key, default: (nil, nil)].chunks = e }
        }
        for key in buckets.keys.sorted() {
            guard let pair = buckets[key] else { continue }
            let parts = key.split(separator: "\u{0}", maxSplits: 1).map(String.init)
            try checkBucket(database: parts.first ?? "", bucket: parts.count > 1 ? parts[1] : "", files: pair.files, chunks: pair.chunks)
        }
        if options.database == nil && options.bucket == nil { try checkSegments() }
        report.seconds = Double((ContinuousClock.now - started).components.attoseconds) / 1e18
            + Double((ContinuousClock.now - started).components.seconds)
        options.progress?(progress)
    }

    // MARK: SQLite and segments

    private mutating func checkSQLite() throws {
        let rows = try c.query("PRAGMA integrity_check")
        let lines = rows.compactMap { row -> String? in
            if case .text(let t)? = row.first { return t }
            return nil
        }
        if lines != ["ok"] {
            for line in lines.prefix(20) {
                report.problems.append(.init(kind: .sqliteIntegrity, detail: "SQLite integrity_check: \(line)"))
            }
        }
    }

    private mutating func checkSegments() throws {
        var referenced: [Int64: Int64] = [:]
        var end: [Int64: Int64] = [:]
        for e in entries where e.kind == .gridFSChunks {
            try c.withStatement("SELECT seg, SUM(len), MAX(off + len) FROM \(e.table) WHERE seg IS NOT NULL GROUP BY seg") { s in
                while try s.step() {
                    referenced[s.int64(0), default: 0] += s.int64(1)
                    end[s.int64(0)] = max(end[s.int64(0)] ?? 0, s.int64(2))
                }
            }
        }
        var dead: [Int64: Int64] = [:]
        try c.withStatement("SELECT id, dead FROM gl_segments") { s in
            while try s.step() { dead[s.int64(0)] = s.int64(1) }
        }
        for id in segments.keys.sorted() {
            guard let info = segments[id] else { continue }
            report.segmentsChecked += 1
            let live = referenced[id] ?? 0
            let deadBytes = dead[id] ?? 0
            if info.size < 0 {
                report.problems.append(.init(kind: .segmentBounds, detail: "segment \(id) has no file \(blobs.path(id))"))
                continue
            }
            if let last = end[id], last > info.size {
                report.problems.append(.init(kind: .segmentBounds,
                                             detail: "segment \(id) is \(info.size) bytes on disk but rows reference bytes up to \(last)"))
            }
            if let sealed = info.sealed {
                if info.size < sealed {
                    report.problems.append(.init(kind: .segmentBounds,
                                                 detail: "segment \(id) is \(info.size) bytes on disk but \(sealed) were sealed in it (truncated)"))
                }
                if live + deadBytes != sealed {
                    report.problems.append(.init(kind: .segmentAccounting,
                                                 detail: "segment \(id): \(live) live + \(deadBytes) dead bytes, but it holds \(sealed)"))
                }
            } else if online ? live + deadBytes > info.size : live + deadBytes != info.size {
                report.problems.append(.init(kind: .segmentAccounting,
                                             detail: "active segment \(id): \(live) live + \(deadBytes) dead bytes, but the file holds \(info.size)"))
            } else if live + deadBytes < info.size {
                // Tolerated while a daemon may be appending: bytes no committed row accounts for.
                report.activeTailBytes += info.size - live - deadBytes
            }
        }
    }

    // MARK: Rows

    /// Reads one row (columns rid, head, data, tail, seg, off, len, crc), verifying its checksum.
    /// Returns the document (nil when unparseable) and whether the row is damaged.
    mutating func readRow(_ s: SQLiteStatement, _ e: CollectionEntry, _ bucket: inout FsckReport.BucketSummary?,
                                  quarantine: Bool) -> (doc: BSONDocument?, damaged: Bool) {
        let rid = s.int64(0)
        progress.documents += 1
        report.documentsChecked += 1
        guard let (bytes, unreadable) = StoredDocument.readParts(s, at: 1, blobs: blobs) else {
            if !quarantine { problem(.unparseable, e, detail: "row \(rid) has an impossible payload length") }
            return (nil, true)
        }
        let doc = BSONDocument(storedBytes: bytes)
        let (fid, n) = Self.chunkIdentity(doc, e)
        var damaged = false
        if let unreadable {
            damaged = true
            if !quarantine { problem(.payloadUnreadable, e, filesId: fid, n: n, detail: "row \(rid): \(unreadable)") }
        } else if s.isNull(7) {
            if !quarantine { problem(.missingChecksum, e, filesId: fid, n: n, detail: "row \(rid) has no checksum") }
        } else {
            let expected = UInt32(truncatingIfNeeded: s.int64(7))
            let actual = PayloadChecksum.compute(bytes)
            if expected != actual {
                damaged = true
                if !quarantine {
                    problem(.checksumMismatch, e, filesId: fid, n: n,
                            detail: "row \(rid): stored crc32c \(String(expected, radix: 16)), computed \(String(actual, radix: 16))")
                }
            }
        }
        if !damaged {
            let payload = Int64(StoredDocument.ref(s, at: 4)?.length ?? 0)
            report.bytesVerified += Int64(bytes.count)
            progress.bytes += payload
            bucket?.bytesVerified += Int64(bytes.count)
        }
        if doc == nil, !damaged, !quarantine { problem(.unparseable, e, detail: "row \(rid) is not a well-framed BSON document") }
        if ContinuousClock.now - lastProgress > .milliseconds(200) {
            lastProgress = .now
            options.progress?(progress)
        }
        return (doc, damaged || doc == nil)
    }

    /// `files_id` and `n` of a chunk document (as text), for messages.
    static func chunkIdentity(_ doc: BSONDocument?, _ e: CollectionEntry) -> (String?, Int?) {
        guard let doc else { return (nil, nil) }
        if e.kind == .gridFSChunks { return (doc["files_id"].map(Self.show), doc["n"]?.intValue) }
        return (doc["_id"].map(Self.show), nil)
    }

    /// A file id for reports: `ObjectId('…')` as the mongo shell prints it, other values as
    /// relaxed extended JSON.
    static func show(_ v: BSONValue) -> String {
        if case .objectId(let oid) = v { return "ObjectId('\(oid.hex)')" }
        return BSONDocument([("v", v)]).relaxedValueText
    }

    mutating func problem(_ kind: FsckReport.Kind, _ e: CollectionEntry, filesId: String? = nil, filename: String? = nil,
                          n: Int? = nil, detail: String) {
        report.problems.append(.init(kind: kind, database: e.namespace.database, collection: e.namespace.collection,
                                     filesId: filesId, filename: filename, n: n, detail: detail))
    }

    private mutating func checkPlain(_ e: CollectionEntry) throws {
        var none: FsckReport.BucketSummary?
        try c.withStatement("SELECT rid, \(StoredDocument.columns) FROM \(e.table) ORDER BY rid") { s in
            while try s.step() { _ = readRow(s, e, &none, quarantine: false) }
        }
    }
}
