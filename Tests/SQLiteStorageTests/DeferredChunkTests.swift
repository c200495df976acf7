import BSON
import Foundation
import Logging
import Query
import Storage
import Testing
@testable import SQLiteStorage

/// The zero-copy read path (``DeferredChunks``): deferred chunk batches assemble to exactly the bytes
/// the buffered path returns, in the same batches; a damaged payload fails verification in the
/// destination buffer (301, naming the chunk); a filter on anything but `_id`/`files_id`/`n` falls
/// back; and a batch taken before its file was deleted (and its segments retired) still assembles.
@Suite struct DeferredChunkTests {
    let chunks = Namespace(unchecked: "db", "fs.chunks")

    func chunk(_ file: Int, n: Int, size: Int) -> BSONDocument {
        var doc = BSONDocument()
        doc.append("_id", .int32(Int32(file * 1000 + n)))
        doc.append("files_id", .int32(Int32(file)))
        doc.append("n", .int32(Int32(n)))
        doc.appendBinary("data", subtype: 0, payload: (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ n &+ file) })
        doc.append("extra", .string("after the payload"))
        return doc
    }

    func query(_ filter: BSONDocument, sort: BSONDocument? = ["n": 1], skip: Int = 0) throws -> FindQuery {
        FindQuery(namespace: chunks, filter: try Filter(filter), sort: try sort.map { try SortSpec($0) }, skip: skip)
    }

    /// Every batch of a query, assembled from deferred documents (each written into its own buffer).
    func deferredBatches(_ engine: SQLiteStorageEngine, _ q: FindQuery, maxBytes: Int) async throws -> [[[UInt8]]]? {
        let cursor = try await engine.find(q)
        var batches: [[[UInt8]]] = []
        while true {
            guard let batch = try await cursor.nextDeferredBatch(maxCount: 1000, maxBytes: maxBytes) else { return nil }
            if batch.documents.isEmpty { break }
            batches.append(try batch.documents.map { try $0.materialize().bytes })
        }
        return batches
    }

    func bufferedBatches(_ engine: SQLiteStorageEngine, _ q: FindQuery, maxBytes: Int) async throws -> [[[UInt8]]] {
        let cursor = try await engine.find(q)
        var batches: [[[UInt8]]] = []
        while true {
            let batch = try await cursor.nextBatch(maxCount: 1000, maxBytes: maxBytes)
            if batch.isEmpty { break }
            batches.append(batch.map(\.bytes))
        }
        return batches
    }

    func openEngine(_ dir: TemporaryDirectory, segmentBytes: Int64 = 256 << 20) async throws -> SQLiteStorageEngine {
        var blobs = BlobStore.Configuration()
        blobs.segmentBytes = segmentBytes
        return try await SQLiteStorageEngine.open(directory: dir.url.path, logger: Logger(label: "test"), blobConfiguration: blobs)
    }

    @Test func deferredBatchesAssembleToTheBufferedBytesInTheSameBatches() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let engine = try await openEngine(dir)
        // File 1: ten 20 KB chunks (segment payloads); file 2: one small chunk kept inline in its row.
        let docs = (0..<10).map { chunk(1, n: $0, size: 20_000) } + [chunk(2, n: 0, size: 200)]
        _ = try await engine.insert(docs, into: chunks, ordered: true)
        let cases: [(FindQuery, Int)] = [
            (try query(["files_id": 1]), 16 << 20),
            (try query(["files_id": 1]), 50_000),
            (try query(["files_id": .document(["$eq": 1]), "n": .document(["$gte": 3])]), 45_000),
            (try query(["files_id": 1], skip: 4), 1),
            (try query(["files_id": 2]), 16 << 20),
            (try query([:], sort: nil), 100_000),
        ]
        for (q, bytes) in cases {
            let deferred = try #require(try await deferredBatches(engine, q, maxBytes: bytes))
            let buffered = try await bufferedBatches(engine, q, maxBytes: bytes)
            #expect(deferred == buffered, "\(q.filter.document) maxBytes \(bytes)")
            #expect(!deferred.isEmpty)
        }
        #expect(try await deferredBatches(engine, query(["files_id": 1]), maxBytes: 16 << 20)?.first?.count == 10)
        // Payload bytes are reported for the traffic metrics.
        let cursor = try await engine.find(try query(["files_id": 1]))
        let batch = try #require(try await cursor.nextDeferredBatch(maxCount: 100, maxBytes: 16 << 20))
        #expect(batch.payloadBytes == 10 * 20_000)
        #expect(batch.byteCount == docs[0..<10].reduce(0) { $0 + $1.bytes.count })
        await engine.close()
    }

    @Test func filtersOnOtherFieldsFallBackToTheBufferedPath() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let engine = try await openEngine(dir)
        _ = try await engine.insert([chunk(1, n: 0, size: 5000)], into: chunks, ordered: true)
        let filters: [BSONDocument] = [["data": .document(["$exists": true])], ["extra": "after the payload"], ["$or": .array([.document(["files_id": 1])])]]
        for filter in filters {
            let cursor = try await engine.find(try query(filter))
            #expect(try await cursor.nextDeferredBatch(maxCount: 10, maxBytes: 1 << 20) == nil, "\(filter)")
            #expect(try await cursor.nextBatch(maxCount: 10, maxBytes: 1 << 20).count == 1)
        }
        // Not a chunks collection: no deferral either.
        let files = Namespace(unchecked: "db", "fs.files")
        _ = try await engine.insert([["_id": 1, "length": .int64(5000)]], into: files, ordered: true)
        let cursor = try await engine.find(FindQuery(namespace: files, filter: try Filter(["_id": 1])))
        #expect(try await cursor.nextDeferredBatch(maxCount: 10, maxBytes: 1 << 20) == nil)
        await engine.close()
    }

    @Test func aDamagedPayloadFailsVerificationInTheDestination() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let engine = try await openEngine(dir)
        let docs = [chunk(1, n: 0, size: 8000), chunk(1, n: 1, size: 8000)]
        _ = try await engine.insert(docs, into: chunks, ordered: true)
        let rows = try await engine.read { c in try c.query("SELECT seg, off FROM c1 ORDER BY rid") }
        guard case .integer(let seg) = rows[1][0], case .integer(let off) = rows[1][1] else {
            Issue.record("chunk not in a segment"); return
        }
        let handle = try #require(FileHandle(forUpdatingAtPath: dir.path("blobs/\(seg).seg")))
        try handle.seek(toOffset: UInt64(off + 7))
        let byte = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: UInt64(off + 7))
        try handle.write(contentsOf: [byte ^ 0x01])
        try handle.close()

        let cursor = try await engine.find(try query(["files_id": 1]))
        let batch = try #require(try await cursor.nextDeferredBatch(maxCount: 10, maxBytes: 1 << 20))
        #expect(try batch.documents[0].materialize().bytes == docs[0].bytes)
        let before = DataIntegrity.corruptionsDetected
        var destination = [UInt8](repeating: 0, count: batch.documents[1].byteCount)
        do {
            try destination.withUnsafeMutableBytes { try batch.documents[1].write(into: $0) }
            Issue.record("a damaged chunk verified")
        } catch let error as MongoError {
            #expect(error.code == 301 && error.codeName == "DataCorruptionDetected")
            #expect(error.message.contains("chunk n=1 of files_id 1"), "\(error.message)")
        }
        #expect(DataIntegrity.corruptionsDetected > before)
        await engine.close()
    }

    @Test func aBatchTakenBeforeItsFileWasDeletedStillAssembles() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        // 64 KB segments: file 1's chunks fill sealed segments of their own.
        let engine = try await openEngine(dir, segmentBytes: 64 << 10)
        let first = (0..<8).map { chunk(1, n: $0, size: 30_000) }
        _ = try await engine.insert(first, into: chunks, ordered: true)
        _ = try await engine.insert((0..<4).map { chunk(2, n: $0, size: 30_000) }, into: chunks, ordered: true)
        let segmentsBefore = try FileManager.default.contentsOfDirectory(atPath: dir.path("blobs")).count

        let cursor = try await engine.find(try query(["files_id": 1]))
        let batch = try #require(try await cursor.nextDeferredBatch(maxCount: 100, maxBytes: 16 << 20))
        let deleted = try await engine.delete([DeleteStatement(filter: try Filter(["files_id": 1]), limit: 0)], in: chunks, ordered: true)
        #expect(deleted.deleted == 8)
        let segmentsAfter = try FileManager.default.contentsOfDirectory(atPath: dir.path("blobs")).count
        #expect(segmentsAfter < segmentsBefore, "the deleted file's segments were retired (unlinked)")
        // The segments are unlinked but stay open for the batch: its documents still assemble, verified.
        #expect(try batch.documents.map { try $0.materialize().bytes } == first.map(\.bytes))
        await engine.close()
    }
}
