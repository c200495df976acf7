import BSON
import CChecksum
import Foundation
import Logging
import Query
import Storage
import Testing
@testable import SQLiteStorage

/// Stored-document checksums: the CRC-32C implementations agree with each other and with the
/// standard check value, every row gets a checksum, and a damaged payload is refused with
/// DataCorruptionDetected (301) naming the chunk, counted, yet still deletable.
@Suite struct PayloadChecksumTests {
    let chunks = Namespace(unchecked: "db", "fs.chunks")

    @Test func crc32cMatchesTheCheckValueAndTheTableCode() {
        let check = Array("123456789".utf8)
        #expect(gridlite_crc32c(0, check, check.count) == 0xE306_9283)
        #expect(gridlite_crc32c_portable(0, check, check.count) == 0xE306_9283)
        var rng = SystemRandomNumberGenerator()
        let buffer = (0..<(200_000 + 16)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        // Sizes around the 3×256 and 3×8192 stream thresholds, and unaligned starts.
        for size in [0, 1, 7, 8, 9, 767, 768, 769, 24_575, 24_576, 24_577, 100_003, 200_000] {
            for start in [0, 1, 5] {
                buffer.withUnsafeBytes { raw in
                    let base = raw.baseAddress! + start
                    let fast = gridlite_crc32c(0, base, size)
                    #expect(fast == gridlite_crc32c_portable(0, base, size), "size \(size) start \(start)")
                    // Continuing from a partial value gives the same result.
                    let half = size / 3
                    #expect(gridlite_crc32c(gridlite_crc32c(0, base, half), base + half, size - half) == fast)
                }
            }
        }
        // Matches the Wire module's byte-at-a-time CRC-32C too (same polynomial and conventions).
        #expect(PayloadChecksum.compute(Array(buffer[0..<1000])) == gridlite_crc32c_portable(0, buffer, 1000))
    }

    func chunk(_ id: Int, n: Int, size: Int) -> BSONDocument {
        var doc = BSONDocument()
        doc.append("_id", .int32(Int32(id * 1000 + n)))
        doc.append("files_id", .int32(Int32(id)))
        doc.append("n", .int32(Int32(n)))
        doc.appendBinary("data", subtype: 0, payload: (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ id) })
        return doc
    }

    func all(_ engine: SQLiteStorageEngine, filter: BSONDocument = [:]) async throws -> [BSONDocument] {
        let cursor = try await engine.find(FindQuery(namespace: chunks, filter: try Filter(filter)))
        var out: [BSONDocument] = []
        while true {
            let batch = try await cursor.nextBatch(maxCount: 1000, maxBytes: 16 << 20)
            if batch.isEmpty { break }
            out += batch
        }
        return out
    }

    @Test func aFlippedBitIsRefusedNamingTheChunkAndTheFileStaysDeletable() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let engine = try await SQLiteStorageEngine.open(directory: dir.url.path, logger: Logger(label: "test"))
        let docs = [chunk(1, n: 0, size: 5000), chunk(1, n: 1, size: 5000), chunk(2, n: 0, size: 300), chunk(3, n: 0, size: 4000)]
        _ = try await engine.insert(docs, into: chunks, ordered: true)
        let rows = try await engine.read { c in try c.query("SELECT crc, seg, off FROM c1 ORDER BY rid") }
        #expect(rows.allSatisfy { if case .integer = $0[0] { return true } else { return false } })
        #expect(try await all(engine).map(\.bytes) == docs.map(\.bytes))

        // Flip one bit of chunk (1, 1)'s payload in its segment file.
        guard case .integer(let seg) = rows[1][1], case .integer(let off) = rows[1][2] else {
            Issue.record("chunk not in a segment"); return
        }
        let handle = try #require(FileHandle(forUpdatingAtPath: dir.path("blobs/\(seg).seg")))
        try handle.seek(toOffset: UInt64(off + 100))
        let byte = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: UInt64(off + 100))
        try handle.write(contentsOf: [byte ^ 0x10])
        try handle.close()

        let before = DataIntegrity.corruptionsDetected
        do {
            _ = try await all(engine, filter: ["files_id": 1])
            Issue.record("a damaged chunk was served")
        } catch let error as MongoError {
            #expect(error.code == 301 && error.codeName == "DataCorruptionDetected")
            #expect(error.message.contains("chunk n=1 of files_id 1"), "\(error.message)")
        }
        #expect(DataIntegrity.corruptionsDetected > before)
        // Other files still read byte-exact (the inline payload is checked too).
        #expect(try await all(engine, filter: ["files_id": 2]).map(\.bytes) == [docs[2].bytes])
        #expect(try await all(engine, filter: ["files_id": 3]).map(\.bytes) == [docs[3].bytes])
        // The damaged file can be deleted (a delete never returns the bytes).
        let deleted = try await engine.delete([DeleteStatement(filter: try Filter(["files_id": 1]), limit: 0)], in: chunks, ordered: true)
        #expect(deleted.deleted == 2)
        #expect(try await all(engine).count == 2)
        await engine.close()
    }
}
