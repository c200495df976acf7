import BSON
import Foundation
import Logging
import Query
import Storage
import Testing
@testable import SQLiteStorage

/// The segment files that hold GridFS chunk payloads: round trips, sealing, reclaiming dead
/// segments, savepoint and rollback accounting, renames out of the chunks layout, restarts.
@Suite struct BlobStoreTests {
    let chunks = Namespace(unchecked: "db", "fs.chunks")

    /// A chunk document with `size` bytes of payload derived from `seed`.
    func chunk(_ id: Int, n: Int = 0, size: Int, seed: UInt8 = 1) -> BSONDocument {
        var doc = BSONDocument()
        doc.append("_id", .int32(Int32(id * 1000 + n)))
        doc.append("files_id", .int32(Int32(id)))
        doc.append("n", .int32(Int32(n)))
        doc.appendBinary("data", subtype: 0, payload: (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed) &+ id) })
        return doc
    }

    func open(_ dir: TemporaryDirectory, segmentBytes: Int64 = 64 << 10) async throws -> SQLiteStorageEngine {
        var blobs = BlobStore.Configuration()
        blobs.segmentBytes = segmentBytes
        return try await SQLiteStorageEngine.open(directory: dir.url.path, logger: Logger(label: "test"), blobConfiguration: blobs)
    }

    func all(_ engine: SQLiteStorageEngine, _ ns: Namespace, filter: BSONDocument = [:]) async throws -> [BSONDocument] {
        let cursor = try await engine.find(FindQuery(namespace: ns, filter: try Filter(filter)))
        var out: [BSONDocument] = []
        while true {
            let batch = try await cursor.nextBatch(maxCount: 1000, maxBytes: 16 << 20)
            if batch.isEmpty { break }
            out += batch
        }
        return out
    }

    func segmentFiles(_ dir: TemporaryDirectory) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path("blobs"))) ?? []).filter { $0.hasSuffix(".seg") }.sorted()
    }

    func segmentRows(_ engine: SQLiteStorageEngine) async throws -> [[SQLiteValue]] {
        try await engine.read { c in try c.query("SELECT id, sealed_size, dead FROM gl_segments ORDER BY id") }
    }

    @Test func payloadsRoundTripByteForByteAndSmallOnesStayInline() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let engine = try await open(dir)
        let docs = [chunk(1, size: 10), chunk(2, size: 5000), chunk(3, size: 20000), chunk(4, size: 1023), chunk(5, size: 1024)]
        let result = try await engine.insert(docs, into: chunks, ordered: true)
        #expect(result.inserted == 5)
        let back = try await all(engine, chunks)
        #expect(back.map(\.bytes) == docs.map(\.bytes))
        let placed = try await engine.read { c in try c.query("SELECT seg IS NOT NULL FROM c1 ORDER BY rid") }
        #expect(placed.map { $0.first } == [.integer(0), .integer(1), .integer(1), .integer(0), .integer(1)])
        // Plain collections never use segment files.
        let plain = Namespace(unchecked: "db", "things")
        _ = try await engine.insert([chunk(9, size: 50000)], into: plain, ordered: true)
        #expect(try await all(engine, plain).first?.bytes == chunk(9, size: 50000).bytes)
        #expect(try await segmentRows(engine).count == 1)
        await engine.close()
    }

    @Test func fullSegmentsAreSealedAndDeadOnesRemoved() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let engine = try await open(dir, segmentBytes: 64 << 10)
        // 3 files × 6 chunks of 16 KiB: 4 chunks fit a 64 KiB segment.
        for file in 1...3 {
            let docs = (0..<6).map { chunk(file, n: $0, size: 16 << 10) }
            #expect(try await engine.insert(docs, into: chunks, ordered: true).inserted == 6)
        }
        #expect(segmentFiles(dir).count == 5)
        let rows = try await segmentRows(engine)
        #expect(rows.filter { $0[1] != .null }.count == 4)
        // Deleting file 1 (chunks 0-5: segment 1 whole, half of segment 2) frees segment 1 only.
        let deleted = try await engine.delete([DeleteStatement(filter: try Filter(["files_id": 1]), limit: 0)], in: chunks, ordered: true)
        #expect(deleted.deleted == 6)
        #expect(segmentFiles(dir).count == 4)
        #expect(!segmentFiles(dir).contains("1.seg"))
        // The rest is intact.
        let left = try await all(engine, chunks)
        #expect(left.count == 12)
        #expect(left.map(\.bytes) == (2...3).flatMap { f in (0..<6).map { chunk(f, n: $0, size: 16 << 10).bytes } })
        // Deleting everything frees every segment, the active one included.
        _ = try await engine.delete([DeleteStatement(filter: try Filter([:]), limit: 0)], in: chunks, ordered: true)
        #expect(segmentFiles(dir).isEmpty)
        #expect(try await segmentRows(engine).isEmpty)
        // New chunks start a new segment.
        _ = try await engine.insert([chunk(7, size: 4000)], into: chunks, ordered: true)
        #expect(try await all(engine, chunks).map(\.bytes) == [chunk(7, size: 4000).bytes])
        await engine.close()
    }

    @Test func replacedAndDroppedPayloadsAreCountedDead() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let engine = try await open(dir, segmentBytes: 1 << 20)
        _ = try await engine.insert([chunk(1, size: 3000), chunk(2, size: 3000)], into: chunks, ordered: true)
        let replacement = chunk(1, size: 4000, seed: 9)
        var body = replacement
        _ = body.remove("_id")
        let update = UpdateStatement(filter: try Filter(["_id": .int32(1000)]), update: try UpdateSpec(body), multi: false, upsert: false)
        #expect(try await engine.update([update], in: chunks, ordered: true).modified == 1)
        #expect(try await all(engine, chunks, filter: ["_id": .int32(1000)]).first?.bytes == replacement.bytes)
        #expect(try await segmentRows(engine).first?[2] == .integer(3000))
        #expect(try await engine.dropCollection(chunks))
        #expect(segmentFiles(dir).isEmpty)
        await engine.close()
    }

    @Test func failedDocumentsInABatchLeaveExactAccounting() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let engine = try await open(dir, segmentBytes: 1 << 20)
        // A side-table unique index makes each insert run in a savepoint.
        _ = try await engine.createIndexes([IndexSpec(name: "files_id_1", key: [("files_id", 1)], unique: true, spec: ["key": .document(["files_id": .int32(1)]), "name": "files_id_1", "unique": true])], on: chunks)
        let docs = [chunk(1, size: 2000), chunk(1, n: 1, size: 2000), chunk(2, size: 2000), chunk(2, size: 2000)]
        let result = try await engine.insert(docs, into: chunks, ordered: false)
        #expect(result.inserted == 2)
        #expect(result.writeErrors.count == 2)
        // The two failed payloads are dead; deleting the two stored chunks frees the whole segment.
        #expect(try await segmentRows(engine).first?[2] == .integer(4000))
        _ = try await engine.delete([DeleteStatement(filter: try Filter([:]), limit: 0)], in: chunks, ordered: true)
        #expect(segmentFiles(dir).isEmpty)
        await engine.close()
    }

    @Test func renamingOutOfTheChunksLayoutBringsPayloadsInline() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let engine = try await open(dir)
        let docs = (0..<3).map { chunk(1, n: $0, size: 8000) }
        _ = try await engine.insert(docs, into: chunks, ordered: true)
        let archive = Namespace(unchecked: "db", "archive")
        try await engine.renameCollection(from: chunks, to: archive, dropTarget: false)
        #expect(try await all(engine, archive).map(\.bytes) == docs.map(\.bytes))
        #expect(segmentFiles(dir).isEmpty)
        // And back: new writes go to segment files again, old rows stay readable inline.
        try await engine.renameCollection(from: archive, to: chunks, dropTarget: false)
        _ = try await engine.insert([chunk(2, size: 8000)], into: chunks, ordered: true)
        #expect(try await all(engine, chunks).map(\.bytes) == (docs + [chunk(2, size: 8000)]).map(\.bytes))
        #expect(segmentFiles(dir).count == 1)
        await engine.close()
    }

    @Test func payloadsSurviveAReopenAndOrphanFilesAreRemoved() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let docs = (0..<10).map { chunk(1, n: $0, size: 30000) }
        do {
            let engine = try await open(dir, segmentBytes: 100_000)
            _ = try await engine.insert(docs, into: chunks, ordered: true)
            await engine.close()
        }
        // A segment file no transaction committed (as after a crash) is deleted at start-up.
        #expect(FileManager.default.createFile(atPath: dir.path("blobs/999.seg"), contents: Data([1, 2, 3])))
        let engine = try await open(dir, segmentBytes: 100_000)
        #expect(!segmentFiles(dir).contains("999.seg"))
        #expect(try await all(engine, chunks).map(\.bytes) == docs.map(\.bytes))
        // Appends continue after the committed data.
        _ = try await engine.insert([chunk(2, size: 30000)], into: chunks, ordered: true)
        #expect(try await all(engine, chunks).count == 11)
        let report = try await engine.validate(chunks, full: true)
        #expect(report.errors.isEmpty)
        await engine.close()
    }

    @Test func readsRacingDeletesNeverFail() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let engine = try await open(dir, segmentBytes: 64 << 10)
        for file in 1...40 {
            _ = try await engine.insert((0..<4).map { chunk(file, n: $0, size: 16 << 10) }, into: chunks, ordered: true)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for file in 1...40 {
                    _ = try await engine.delete([DeleteStatement(filter: try Filter(["files_id": .int32(Int32(file))]), limit: 0)], in: chunks, ordered: true)
                }
            }
            for _ in 0..<3 {
                group.addTask {
                    for _ in 0..<30 {
                        // Every chunk returned is complete and correct (a deleted segment stays
                        // readable for reads that started before the delete).
                        for doc in try await all(engine, chunks) {
                            let file = doc["files_id"]?.intValue ?? 0, n = doc["n"]?.intValue ?? 0
                            #expect(doc.bytes == chunk(file, n: n, size: 16 << 10).bytes)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(segmentFiles(dir).isEmpty)
        await engine.close()
    }

    @Test func maintenanceCompactsMostlyDeadSegments() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let engine = try await open(dir, segmentBytes: 64 << 10)
        // 8 files of 2 chunks × 8 KiB: 4 files per 64 KiB segment (the second stays active).
        for file in 1...8 {
            _ = try await engine.insert((0..<2).map { chunk(file, n: $0, size: 8 << 10) }, into: chunks, ordered: true)
        }
        #expect(segmentFiles(dir) == ["1.seg", "2.seg"])
        // Nothing is mostly dead yet.
        #expect(try await engine.maintenance().isEmpty)
        // Delete 3 of the 4 files in sealed segment 1 and 1 of 4 in the active segment 2.
        for file in [1, 2, 4, 6] {
            _ = try await engine.delete([DeleteStatement(filter: try Filter(["files_id": .int32(Int32(file))]), limit: 0)], in: chunks, ordered: true)
        }
        let done = try await engine.maintenance()
        #expect(done.count == 1)
        #expect(done.first?.contains("segment 1") == true)
        #expect(!segmentFiles(dir).contains("1.seg"))
        #expect(try await engine.maintenance().isEmpty)
        // Every remaining chunk is intact, and the accounting still adds up: deleting the rest
        // removes every segment.
        let left = try await all(engine, chunks)
        #expect(Set(left.map(\.bytes)) == Set([3, 5, 7, 8].flatMap { f in (0..<2).map { chunk(f, n: $0, size: 8 << 10).bytes } }))
        _ = try await engine.delete([DeleteStatement(filter: try Filter([:]), limit: 0)], in: chunks, ordered: true)
        #expect(segmentFiles(dir).isEmpty)
        await engine.close()
    }

    @Test func fullSynchronousFlushesSegmentsAtCommit() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let engine = try await SQLiteStorageEngine.open(directory: dir.url.path, logger: Logger(label: "test")) {
            $0.synchronous = .full
        }
        #expect(engine.blobs.configuration.syncOnCommit)
        let docs = (0..<4).map { chunk(1, n: $0, size: 20000) }
        #expect(try await engine.insert(docs, into: chunks, ordered: true).inserted == 4)
        #expect(try await all(engine, chunks).map(\.bytes) == docs.map(\.bytes))
        // Checkpoints flush what was appended since the last one.
        engine.blobs.syncDirty()
        _ = try await engine.db.checkpoint(.passive)
        await engine.close()
    }

    @Test func bytesLeftByAnInterruptedWriteAreReclaimedAfterAnUncleanStart() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        do {
            let engine = try await open(dir, segmentBytes: 1 << 20)
            _ = try await engine.insert((0..<3).map { chunk(1, n: $0, size: 5000) }, into: chunks, ordered: true)
            await engine.close()
        }
        // What a kill -9 in the middle of an insert leaves: payload bytes appended to the active segment
        // by a transaction that never committed, and no clean-shutdown mark.
        let segment = try #require(segmentFiles(dir).first)
        let handle = try #require(FileHandle(forWritingAtPath: dir.path("blobs/\(segment)")))
        handle.seekToEndOfFile()
        handle.write(Data(repeating: 0xAB, count: 7000))
        handle.closeFile()
        let raw = try SQLiteConnection(path: dir.path(SQLiteStorageEngine.fileName))
        try raw.exec("UPDATE gl_meta SET value = '0' WHERE key = 'clean_shutdown'")
        raw.close()

        let engine = try await open(dir, segmentBytes: 1 << 20)
        #expect(try await segmentRows(engine).first?[2] == .integer(7000))
        #expect(try await all(engine, chunks).map(\.bytes) == (0..<3).map { chunk(1, n: $0, size: 5000).bytes })
        // Deleting every chunk now frees the segment, garbage included.
        _ = try await engine.delete([DeleteStatement(filter: try Filter([:]), limit: 0)], in: chunks, ordered: true)
        #expect(segmentFiles(dir).isEmpty)
        await engine.close()
        // After a clean close nothing is recounted.
        let again = try await open(dir, segmentBytes: 1 << 20)
        #expect(try await segmentRows(again).isEmpty)
        await again.close()
    }
}
