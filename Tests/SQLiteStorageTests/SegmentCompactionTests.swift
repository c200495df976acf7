import BSON
import Foundation
import Logging
import Query
import Storage
import Testing
@testable import SQLiteStorage

/// Giving space back: choosing the segment to compact, compacting the active segment, releasing
/// the blocks reserved ahead of it, the `compact` entry point and the database file's vacuum.
@Suite struct SegmentCompactionTests {
    let chunks = Namespace(unchecked: "db", "fs.chunks")

    func chunk(_ id: Int, n: Int = 0, size: Int) -> BSONDocument {
        var doc = BSONDocument()
        doc.append("_id", .int32(Int32(id * 1000 + n)))
        doc.append("files_id", .int32(Int32(id)))
        doc.append("n", .int32(Int32(n)))
        doc.appendBinary("data", subtype: 0, payload: (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ id &+ n) })
        return doc
    }

    func open(_ dir: TemporaryDirectory, segmentBytes: Int64 = 1 << 20, idle: Duration = .zero) async throws -> SQLiteStorageEngine {
        var blobs = BlobStore.Configuration()
        blobs.segmentBytes = segmentBytes
        blobs.idleBeforeReclaiming = idle
        return try await SQLiteStorageEngine.open(directory: dir.url.path, logger: Logger(label: "test"), blobConfiguration: blobs)
    }

    func deleteFile(_ engine: SQLiteStorageEngine, _ file: Int) async throws {
        _ = try await engine.delete([DeleteStatement(filter: try Filter(["files_id": .int32(Int32(file))]), limit: 0)], in: chunks, ordered: true)
    }

    func documents(_ engine: SQLiteStorageEngine) async throws -> Set<[UInt8]> {
        let cursor = try await engine.find(FindQuery(namespace: chunks, filter: Filter.all))
        var out: Set<[UInt8]> = []
        while true {
            let batch = try await cursor.nextBatch(maxCount: 1000, maxBytes: 16 << 20)
            if batch.isEmpty { break }
            for doc in batch { out.insert(doc.bytes) }
        }
        return out
    }

    /// (file name, apparent size) of every segment file.
    func segments(_ dir: TemporaryDirectory) -> [String: Int64] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path("blobs"))) ?? []).filter { $0.hasSuffix(".seg") }
        var out: [String: Int64] = [:]
        for name in names {
            let size = (try? FileManager.default.attributesOfItem(atPath: dir.path("blobs/\(name)"))[.size] as? Int64) ?? -1
            out[name] = size
        }
        return out
    }

    @Test func theCandidateIsTheMostDeadSegmentAboveTheThreshold() {
        typealias U = BlobStore.SegmentUsage
        let usage = [
            U(id: 1, size: 100, dead: 40, isActive: false),
            U(id: 2, size: 100, dead: 60, isActive: false),
            U(id: 3, size: 200, dead: 110, isActive: true),
            U(id: 4, size: 0, dead: 0, isActive: true),
        ]
        #expect(BlobStore.candidate(usage, minimumDeadFraction: 0.5)?.id == 3)
        #expect(BlobStore.candidate(usage, minimumDeadFraction: 0.5, excluding: [3])?.id == 2)
        #expect(BlobStore.candidate(usage, minimumDeadFraction: 0.5, excluding: [2, 3]) == nil)
        #expect(BlobStore.candidate(usage, minimumDeadFraction: 0.3, excluding: [2, 3])?.id == 1)
        #expect(BlobStore.candidate(usage, minimumDeadFraction: 0.9) == nil)
        #expect(BlobStore.candidate([], minimumDeadFraction: 0) == nil)
    }

    @Test func theReservationGrowsWithTheSegment() {
        #expect(BlobStore.reserveStep(forSize: 0) == 1 << 20)
        #expect(BlobStore.reserveStep(forSize: 3 << 20) == 3 << 20)
        #expect(BlobStore.reserveStep(forSize: 200 << 20) == 32 << 20)
    }

    @Test func maintenanceCompactsAMostlyDeadActiveSegmentOnceIdle() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let engine = try await open(dir)
        // One 4 KiB file to keep and a 3 × 40 KiB file to delete, both in active segment 1.
        _ = try await engine.insert([chunk(1, size: 4096)], into: chunks, ordered: true)
        _ = try await engine.insert((0..<3).map { chunk(2, n: $0, size: 40 << 10) }, into: chunks, ordered: true)
        try await deleteFile(engine, 2)
        #expect(segments(dir) == ["1.seg": 4096 + 3 * (40 << 10)])
        let done = try await engine.maintenance()
        #expect(done.count == 1)
        #expect(done.first?.contains("compacted segment 1 (active)") == true)
        // The live payload moved to a new active segment; segment 1 is gone.
        #expect(segments(dir) == ["2.seg": 4096])
        let rows = try await engine.read { c in try c.query("SELECT id, sealed_size, dead FROM gl_segments") }
        #expect(rows == [[.integer(2), .null, .integer(0)]])
        #expect(try await documents(engine) == [chunk(1, size: 4096).bytes])
        // Nothing is dead any more; the new segment's reservation goes back once idle.
        let next = try await engine.maintenance()
        #expect(next.allSatisfy { !$0.contains("compacted") })
        #expect(engine.blobs.reservedBytes == 0)
        // The accounting still adds up: deleting the last file removes the last segment.
        try await deleteFile(engine, 1)
        #expect(segments(dir).isEmpty)
        await engine.close()
    }

    @Test func aBusyWriterKeepsItsActiveSegment() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let engine = try await open(dir, idle: .seconds(3600))
        _ = try await engine.insert([chunk(1, size: 4096)], into: chunks, ordered: true)
        _ = try await engine.insert((0..<3).map { chunk(2, n: $0, size: 40 << 10) }, into: chunks, ordered: true)
        try await deleteFile(engine, 2)
        #expect(try await engine.maintenance().isEmpty)
        #expect(segments(dir).keys.sorted() == ["1.seg"])
        #expect(engine.blobs.reservedBytes > 0)
        await engine.close()
    }

    @Test func theReservationIsReleasedWhenIdle() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let engine = try await open(dir, segmentBytes: 256 << 20)
        _ = try await engine.insert([chunk(1, size: 10_000)], into: chunks, ordered: true)
        // 1 MiB is reserved ahead of a new segment, not 32 MiB.
        #expect(engine.blobs.reservedBytes == (1 << 20) - 10_000)
        var st = stat()
        let path = dir.path("blobs/1.seg")
        #expect(stat(path, &st) == 0)
        let allocatedBefore = Int64(st.st_blocks) * 512
        let done = try await engine.maintenance()
        #expect(done.contains { $0.contains("released \((1 << 20) - 10_000) bytes") })
        #expect(engine.blobs.reservedBytes == 0)
        #expect(stat(path, &st) == 0)
        #expect(Int64(st.st_size) == 10_000)
        // On a file system with fallocate (ext4 here) the blocks past the end are freed too.
        let allocatedAfter = Int64(st.st_blocks) * 512
        #expect(allocatedAfter <= allocatedBefore)
        #expect(allocatedAfter < 64 << 10 || allocatedBefore < 1 << 20)
        // The next append reserves again, and the data is intact.
        _ = try await engine.insert([chunk(2, size: 10_000)], into: chunks, ordered: true)
        #expect(engine.blobs.reservedBytes > 0)
        #expect(try await documents(engine) == [chunk(1, size: 10_000).bytes, chunk(2, size: 10_000).bytes])
        await engine.close()
    }

    @Test func compactFreesEverySegmentWithDeadBytesAndFixesDriftedAccounting() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let engine = try await open(dir, segmentBytes: 64 << 10, idle: .seconds(3600))
        await #expect(throws: StorageError.self) { _ = try await engine.compact(Namespace(unchecked: "db", "missing")) }
        // 6 files × 2 chunks × 12 KiB: segments of 64 KiB hold 5 chunks each.
        for file in 1...6 {
            _ = try await engine.insert((0..<2).map { chunk(file, n: $0, size: 12 << 10) }, into: chunks, ordered: true)
        }
        for file in [1, 3, 5] { try await deleteFile(engine, file) }
        // Drift as a crash without reconciliation would leave it: a sealed segment claims fewer
        // dead bytes than it has.
        try await engine.db.write { c in _ = try c.execute("UPDATE gl_segments SET dead = 12288 WHERE id = 1") }
        let before = segments(dir).values.reduce(0, +)
        let freed = try await engine.compact(chunks)
        #expect(freed > 0)
        // Only the live payloads are left, in as few bytes as they take.
        #expect(segments(dir).values.reduce(0, +) == 6 * (12 << 10))
        #expect(before > 6 * (12 << 10))
        #expect(try await documents(engine) == Set([2, 4, 6].flatMap { f in (0..<2).map { chunk(f, n: $0, size: 12 << 10).bytes } }))
        let dead = try await engine.read { c in try c.query("SELECT COALESCE(SUM(dead), 0) FROM gl_segments") }
        #expect(dead == [[.integer(0)]])
        for file in [2, 4, 6] { try await deleteFile(engine, file) }
        #expect(segments(dir).isEmpty)
        await engine.close()
    }

    @Test func compactVacuumsTheDatabaseFile() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let engine = try await open(dir)
        let plain = Namespace(unchecked: "db", "plain")
        let mode = try await engine.read { c in try c.pragma("auto_vacuum") }
        #expect(mode == .integer(2))
        let docs: [BSONDocument] = (0..<2000).map { ["_id": .int32(Int32($0)), "pad": .string(String(repeating: "x", count: 900))] }
        _ = try await engine.insert(docs, into: plain, ordered: true)
        _ = try await engine.delete([DeleteStatement(filter: Filter.all, limit: 0)], in: plain, ordered: true)
        let free = try await engine.read { c in try c.pragma("freelist_count") }
        guard case .integer(let pages)? = free else { Issue.record("no freelist_count"); return }
        #expect(pages > 100)
        let freed = try await engine.compact(plain)
        #expect(freed > pages * 4096 / 2)
        #expect(try await engine.read { c in try c.pragma("freelist_count") } == .integer(0))
        await engine.close()
    }
}
