import BSON
import Foundation
import Testing
@testable import SQLiteStorage

/// Measurements behind docs/storage.md. Off by default; run with
/// `GRIDLITE_MEASURE=1 swift test --filter GridFSLayoutMeasurements`.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["GRIDLITE_MEASURE"] == "1"))
struct GridFSLayoutMeasurements {
    static let chunkSize = 255 * 1024
    static let totalBytes = 256 << 20
    static var chunkCount: Int { (totalBytes + chunkSize - 1) / chunkSize }
    static let batch = 180

    /// A chunk-table layout under test.
    struct Layout: Sendable {
        let name: String
        let ddl: String
        let insert: String
        let select: String
        let split: Bool
    }

    static let rowidSplit = Layout(
        name: "rowid+split",
        ddl: """
        CREATE TABLE chunks(files_id_key BLOB NOT NULL, n INTEGER NOT NULL, id_key BLOB NOT NULL,
                            header BLOB NOT NULL, data BLOB NOT NULL);
        CREATE UNIQUE INDEX chunks_files_n ON chunks(files_id_key, n);
        CREATE UNIQUE INDEX chunks_id ON chunks(id_key);
        """,
        insert: "INSERT INTO chunks(files_id_key, n, id_key, header, data) VALUES (?, ?, ?, ?, ?)",
        select: "SELECT header, data, rowid FROM chunks WHERE files_id_key = ? ORDER BY n",
        split: true)
    static let withoutRowidSplit = Layout(
        name: "without-rowid+split",
        ddl: """
        CREATE TABLE chunks(files_id_key BLOB NOT NULL, n INTEGER NOT NULL, id_key BLOB NOT NULL,
                            header BLOB NOT NULL, data BLOB NOT NULL, PRIMARY KEY(files_id_key, n)) WITHOUT ROWID;
        CREATE UNIQUE INDEX chunks_id ON chunks(id_key);
        """,
        insert: "INSERT INTO chunks(files_id_key, n, id_key, header, data) VALUES (?, ?, ?, ?, ?)",
        select: "SELECT header, data FROM chunks WHERE files_id_key = ? ORDER BY n",
        split: true)
    static let rowidWhole = Layout(
        name: "rowid+whole-doc",
        ddl: """
        CREATE TABLE chunks(files_id_key BLOB NOT NULL, n INTEGER NOT NULL, id_key BLOB NOT NULL, doc BLOB NOT NULL);
        CREATE UNIQUE INDEX chunks_files_n ON chunks(files_id_key, n);
        CREATE UNIQUE INDEX chunks_id ON chunks(id_key);
        """,
        insert: "INSERT INTO chunks(files_id_key, n, id_key, doc) VALUES (?, ?, ?, ?)",
        select: "SELECT doc FROM chunks WHERE files_id_key = ? ORDER BY n",
        split: false)

    /// A GridFS chunk document `{_id, files_id, n, data: BinData(0, payload)}` as the wire delivers it;
    /// returns the bytes and where the payload starts.
    static func chunkDocument(id: ObjectId, filesId: ObjectId, n: Int32, payload: [UInt8]) -> (bytes: [UInt8], dataStart: Int) {
        var header: [UInt8] = [0, 0, 0, 0]
        header.append(0x07); header.append(contentsOf: Array("_id".utf8)); header.append(0); header.append(contentsOf: id.bytes)
        header.append(0x07); header.append(contentsOf: Array("files_id".utf8)); header.append(0); header.append(contentsOf: filesId.bytes)
        header.append(0x10); header.append(contentsOf: Array("n".utf8)); header.append(0); header.append(contentsOf: le(UInt32(bitPattern: n)))
        header.append(0x05); header.append(contentsOf: Array("data".utf8)); header.append(0)
        header.append(contentsOf: le(UInt32(payload.count))); header.append(0)
        let total = header.count + payload.count + 1
        header.replaceSubrange(0..<4, with: le(UInt32(total)))
        let bytes = [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            header.withUnsafeBytes { raw.copyMemory(from: $0) }
            payload.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: raw[header.count...]).copyMemory(from: $0) }
            raw[total - 1] = 0
            initialized = total
        }
        return (bytes, header.count)
    }

    static func le(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
    static func key(_ id: ObjectId) -> [UInt8] { [0x07] + id.bytes }

    static func payload(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// Inserts `chunks` chunks of `payload` for one file in transactions of `batch`; returns (seconds, slowest transaction ms).
    static func upload(_ db: SQLiteDatabase, _ layout: Layout, filesId: ObjectId, payload: [UInt8],
                       chunks: Int, batch: Int) async throws -> (seconds: Double, maxBatchMs: Double) {
        let clock = ContinuousClock()
        let start = clock.now
        var slowest = Duration.zero
        var n = 0
        while n < chunks {
            let first = n, last = min(chunks, n + batch)
            let batchStart = clock.now
            try await db.writeTransaction { c in
                try c.withStatement(layout.insert) { stmt in
                    let filesKey = key(filesId)
                    for i in first..<last {
                        let id = ObjectId()
                        let doc = chunkDocument(id: id, filesId: filesId, n: Int32(i), payload: payload)
                        try stmt.bind(filesKey, at: 1)
                        try stmt.bind(Int64(i), at: 2)
                        try stmt.bind(key(id), at: 3)
                        try doc.bytes.withUnsafeBytes { raw in
                            if layout.split {
                                try stmt.bindNoCopy(UnsafeRawBufferPointer(rebasing: raw[..<doc.dataStart]), at: 4)
                                try stmt.bindNoCopy(UnsafeRawBufferPointer(rebasing: raw[doc.dataStart..<(raw.count - 1)]), at: 5)
                            } else {
                                try stmt.bindNoCopy(raw, at: 4)
                            }
                            try stmt.run()
                        }
                    }
                }
            }
            slowest = max(slowest, clock.now - batchStart)
            n = last
        }
        return (seconds(clock.now - start), seconds(slowest) * 1000)
    }

    /// Reads one file's chunks in order, rebuilding each chunk document; returns (seconds, data bytes).
    static func download(_ db: SQLiteDatabase, _ layout: Layout, filesId: ObjectId, blobIO: Bool = false) async throws -> (Double, Int) {
        let clock = ContinuousClock()
        let start = clock.now
        let bytes = try await db.read { c in
            var total = 0
            var blob: SQLiteBlob?
            var buffer = [UInt8](repeating: 0, count: chunkSize + 64)
            try c.withStatement(layout.select) { stmt in
                try stmt.bind(key(filesId), at: 1)
                while try stmt.step() {
                    var doc: [UInt8]
                    if !layout.split {
                        doc = stmt.blob(0)
                        total += doc.count
                    } else if blobIO {
                        let rowid = stmt.int64(2)
                        if let blob { try blob.reopen(rowid: rowid) } else {
                            blob = try c.openBlob(table: "chunks", column: "data", rowid: rowid)
                        }
                        let count = blob?.count ?? 0
                        try buffer.withUnsafeMutableBytes { raw in
                            try blob?.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[..<count]))
                        }
                        doc = stmt.blob(0)
                        doc.append(contentsOf: buffer[..<count])
                        doc.append(0)
                        total += count
                    } else {
                        doc = stmt.blob(0)
                        doc.reserveCapacity(doc.count + stmt.byteCount(1) + 1)
                        stmt.withBlob(1) { doc.append(contentsOf: $0) }
                        doc.append(0)
                        total += stmt.byteCount(1)
                    }
                    _ = doc
                }
            }
            return total
        }
        return (seconds(clock.now - start), bytes)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func mbps(_ bytes: Int, _ s: Double) -> String { String(format: "%.0f MB/s", Double(bytes) / 1e6 / s) }

    static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil) ?? 0
    }

    static func open(_ dir: TemporaryDirectory, _ name: String, _ tweak: (inout SQLiteConfiguration) -> Void) async throws -> SQLiteDatabase {
        var configuration = SQLiteConfiguration(path: dir.path(name))
        configuration.readerCount = 1
        tweak(&configuration)
        return try await SQLiteDatabase(configuration: configuration)
    }

    /// Drops `path` from the OS page cache (after an fsync) so the next read comes from disk.
    static func evict(_ path: String) {
        let fd = Glibc.open(path, O_RDONLY)
        guard fd >= 0 else { return }
        fsync(fd)
        posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED))
        close(fd)
    }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    /// Large uploads + downloads for a layout and configuration, `repeats` times; prints medians.
    static func largeFile(_ label: String, _ layout: Layout, repeats: Int = 3,
                          _ tweak: (inout SQLiteConfiguration) -> Void) async throws {
        var write: [Double] = [], slowestTxn: [Double] = [], wal: [Double] = [], finalCheckpoint: [Double] = []
        var cold: [Double] = [], warm: [Double] = [], blobIO: [Double] = []
        for _ in 0..<repeats {
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            let db = try await open(dir, "m.sqlite", tweak)
            try await db.write { try $0.exec(layout.ddl) }
            let payload = payload(chunkSize)
            let filesId = ObjectId()
            let (ws, slowest) = try await upload(db, layout, filesId: filesId, payload: payload, chunks: chunkCount, batch: batch)
            wal.append(Double(fileSize(dir.path("m.sqlite-wal")) >> 20))
            let cs = Date()
            try await db.checkpoint(.truncate)
            finalCheckpoint.append(Date().timeIntervalSince(cs) * 1000)
            evict(dir.path("m.sqlite"))
            let (cold1, read) = try await download(db, layout, filesId: filesId)
            let bytes = chunkCount * chunkSize  // payload bytes (whole-doc reads also count headers)
            #expect(read >= bytes)
            let (warm1, _) = try await download(db, layout, filesId: filesId)
            write.append(Double(bytes) / 1e6 / ws)
            slowestTxn.append(slowest)
            cold.append(Double(bytes) / 1e6 / cold1)
            warm.append(Double(bytes) / 1e6 / warm1)
            if layout.split && layout.select.contains("rowid") {
                let (bs, _) = try await download(db, layout, filesId: filesId, blobIO: true)
                blobIO.append(Double(bytes) / 1e6 / bs)
            }
            await db.close()
        }
        var line = "\(label) [\(layout.name)] median of \(repeats): write \(Int(median(write))) MB/s"
        line += " (runs \(write.map { Int($0) })), slowest txn \(Int(median(slowestTxn))) ms, WAL after upload \(Int(median(wal))) MiB,"
        line += " final checkpoint \(Int(median(finalCheckpoint))) ms; read cold \(Int(median(cold))) MB/s, warm column_blob \(Int(median(warm))) MB/s"
        if !blobIO.isEmpty { line += ", warm blob_open \(Int(median(blobIO))) MB/s" }
        print(line)
    }

    @Test func layouts() async throws {
        for layout in [Self.rowidSplit, Self.withoutRowidSplit, Self.rowidWhole] {
            try await Self.largeFile("page 64K, NORMAL, defaults", layout) { _ in }
        }
    }

    @Test func pageSizes() async throws {
        for size in [4096, 16384, 65536] {
            try await Self.largeFile("page \(size / 1024)K, NORMAL, defaults", Self.rowidSplit) { $0.pageSize = size }
        }
    }

    @Test func readerMmap() async throws {
        for mmap in [0, 256 << 20] {
            try await Self.largeFile("page 64K, mmap \(mmap >> 20) MiB", Self.rowidSplit) { $0.readerMmapSize = mmap }
        }
    }

    @Test func synchronousAndCheckpoints() async throws {
        let variants: [(String, @Sendable (inout SQLiteConfiguration) -> Void)] = [
            ("FULL, bg-checkpoint 16 MiB, cap 1024 pages", {
                $0.synchronous = .full; $0.backgroundCheckpointBytes = 16 << 20; $0.walCapBytes = nil; $0.walAutoCheckpointPages = 1024 }),
            ("NORMAL, autocheckpoint 256 pages", { $0.walCapBytes = nil; $0.walAutoCheckpointPages = 256; $0.backgroundCheckpointBytes = nil }),
            ("NORMAL, autocheckpoint 1024 pages", { $0.walCapBytes = nil; $0.walAutoCheckpointPages = 1024; $0.backgroundCheckpointBytes = nil }),
            ("NORMAL, no checkpoint until end", { $0.walCapBytes = nil; $0.walAutoCheckpointPages = 0; $0.backgroundCheckpointBytes = nil }),
            ("NORMAL, bg-checkpoint 16 MiB, no cap", { $0.backgroundCheckpointBytes = 16 << 20; $0.walCapBytes = nil; $0.walAutoCheckpointPages = 0 }),
            ("NORMAL, bg-checkpoint 16 MiB, cap 1024 pages", {
                $0.backgroundCheckpointBytes = 16 << 20; $0.walCapBytes = nil; $0.walAutoCheckpointPages = 1024 }),
            ("NORMAL, bg-checkpoint 32 MiB, cap 2048 pages", {
                $0.backgroundCheckpointBytes = 32 << 20; $0.walCapBytes = nil; $0.walAutoCheckpointPages = 2048 }),
        ]
        for (label, tweak) in variants {
            try await Self.largeFile("page 64K, " + label, Self.rowidSplit, tweak)
        }
    }

    /// 1,000 files of 10 KiB: one chunk insert and one files insert per file, each its own transaction
    /// (what a driver's GridFS upload does), then reading each back (files lookup + chunks).
    @Test func smallFiles() async throws {
        let variants: [(SQLiteConfiguration.Synchronous, Int)] = [(.normal, 4096), (.normal, 16384), (.normal, 65536), (.full, 16384)]
        for (sync, pageSize) in variants {
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            let db = try await Self.open(dir, "s.sqlite") { $0.synchronous = sync; $0.pageSize = pageSize }
            let layout = Self.rowidSplit
            try await db.write { c in
                try c.exec(layout.ddl)
                try c.exec("CREATE TABLE files(id_key BLOB PRIMARY KEY, doc BLOB NOT NULL)")
            }
            let payload = Self.payload(10 * 1024)
            let ids = (0..<1000).map { _ in ObjectId() }
            let clock = ContinuousClock()
            var start = clock.now
            for id in ids {
                _ = try await Self.upload(db, layout, filesId: id, payload: payload, chunks: 1, batch: 1)
                try await db.writeTransaction { c in
                    try c.execute("INSERT INTO files VALUES (?, ?)", [.blob(Self.key(id)), .blob(Array(repeating: 1, count: 200))])
                }
            }
            let ws = Self.seconds(clock.now - start)
            start = clock.now
            for id in ids {
                _ = try await db.read { c in try c.query("SELECT doc FROM files WHERE id_key = ?", [.blob(Self.key(id))]) }
                _ = try await Self.download(db, layout, filesId: id)
            }
            let rs = Self.seconds(clock.now - start)
            try await db.checkpoint(.truncate)
            print(String(format: "small files, synchronous=%@, page %dK: upload %.0f files/s (%.2f ms each, 2 commits), download %.0f files/s, db %d KiB",
                         sync.rawValue, pageSize / 1024, 1000 / ws, ws, 1000 / rs, Self.fileSize(dir.path("s.sqlite")) >> 10))
            await db.close()
        }
    }
}
