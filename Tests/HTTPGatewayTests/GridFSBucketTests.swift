import BSON
import Foundation
import Logging
import MemoryStorage
import NIOCore
import SQLiteStorage
import Storage
import Testing
@testable import HTTPGateway

/// Upload and ranged reads through the storage protocol, on the in-memory engine (the generic
/// query path) and on SQLite (its direct chunk reads).
@Suite struct GridFSBucketTests {
    @Test(arguments: ["memory", "sqlite"]) func uploadThenReadEveryKindOfRange(engine: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gridlite-http-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sqlite = engine == "sqlite" ? try await SQLiteStorageEngine.open(directory: directory, logger: Logger(label: "test")) : nil
        let storage: any StorageEngine = sqlite ?? MemoryStorageEngine()
        let bucket = try GridFSBucket(storage: storage, database: "t", bucket: "fs")
        try await GridFSUpload.ensureIndexes(bucket)
        var payload: [UInt8] = []
        var state: UInt32 = 12345
        for _ in 0..<10_000 {
            state = state &* 1_103_515_245 &+ 12345
            payload.append(UInt8(truncatingIfNeeded: state >> 16))
        }
        var upload = GridFSUpload(bucket: bucket, filename: "a.bin", chunkSize: 1000, batchBytes: 3000)
        for start in stride(from: 0, to: payload.count, by: 777) {
            try await upload.append(payload[start..<min(start + 777, payload.count)])
        }
        let file = try await upload.finish()
        #expect(file.length == 10_000)
        #expect(file.chunkCount == 10)

        let byName = try await bucket.file(name: "a.bin", revision: -1)
        #expect(byName?.idText == file.idText)
        #expect(try await bucket.file(name: "a.bin", revision: 1) == nil)
        #expect(try await bucket.file(id: file.id)?.length == 10_000)

        for (first, last) in [(0, 9999), (0, 0), (999, 1000), (1500, 4321), (9999, 9999), (2000, 2999)] {
            var got: [UInt8] = []
            try await bucket.read(file, range: ByteRange(first: Int64(first), last: Int64(last)), batchBytes: 2500) {
                got += $0.readableBytesView
            }
            #expect(got == Array(payload[first...last]), "range \(first)-\(last)")
        }
        // Batches smaller than a chunk still make progress, one chunk at a time.
        var pieces: [Int] = []
        try await bucket.read(file, range: ByteRange(first: 10, last: 2500), batchBytes: 1) { pieces.append($0.readableBytes) }
        #expect(pieces == [990, 1000, 501])
        // The first batch is one chunk (it is sent while the rest is read), then full batches.
        pieces = []
        try await bucket.read(file, range: ByteRange(first: 500, last: 9999), batchBytes: 4000) { pieces.append($0.readableBytes) }
        #expect(pieces == [500, 4000, 4000, 1000])
        #expect(try await bucket.delete(id: file.id))
        #expect(try await bucket.file(id: file.id) == nil)
        #expect(try await !bucket.delete(id: file.id))
        await sqlite?.close()
    }

    @Test func abortedUploadLeavesNoChunks() async throws {
        let storage = MemoryStorageEngine()
        let bucket = try GridFSBucket(storage: storage, database: "t", bucket: "fs")
        var upload = GridFSUpload(bucket: bucket, filename: "cut.bin", chunkSize: 100, batchBytes: 100)
        try await upload.append([UInt8](repeating: 7, count: 1000))
        #expect(try await storage.count(FindQuery(namespace: bucket.chunks, filter: .all)) > 0)
        await upload.abort()
        #expect(try await storage.count(FindQuery(namespace: bucket.chunks, filter: .all)) == 0)
        #expect(try await storage.count(FindQuery(namespace: bucket.files, filter: .all)) == 0)
    }

    @Test func idsRoundTripThroughURLText() {
        let oid = ObjectId()
        #expect(StoredFile.parseId(oid.hex) == .objectId(oid))
        #expect(StoredFile.parseId("\"name\"") == .string("name"))
        #expect(StoredFile.parseId("{\"$numberInt\":\"7\"}") == .int32(7))
        #expect(StoredFile.parseId("not json") == nil)
        #expect(StoredFile.parseId("1, \"w\": 2") == nil)
        for id: BSONValue in [.string("a b"), .int32(7), .int64(1 << 40), .objectId(oid)] {
            #expect(StoredFile.parseId(StoredFile.idText(id)) == id)
        }
    }
}
