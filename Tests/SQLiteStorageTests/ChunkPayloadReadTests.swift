import BSON
import Foundation
import Logging
import Query
import Storage
import Testing
@testable import SQLiteStorage

/// `readChunkPayloads`, the SQLite engine's direct GridFS read: the same bytes as the generic
/// query path for every range and batch size, payloads in segment files, in rows, and rows stored
/// whole (a collection renamed into a chunks name); it stops at a gap; a damaged payload is
/// refused with DataCorruptionDetected (301) and counted.
@Suite struct ChunkPayloadReadTests {
    let chunks = Namespace(unchecked: "db", "fs.chunks")

    /// Collects payloads and their chunk numbers.
    struct Collected: ChunkPayloadSink {
        var bytes: [UInt8] = []
        var numbers: [Int64] = []

        mutating func append(chunk n: Int64, count: Int, _ fill: (UnsafeMutableRawBufferPointer) throws -> Void) throws {
            var room = [UInt8](repeating: 0xEE, count: count)
            try room.withUnsafeMutableBytes { try fill($0) }
            bytes += room
            numbers.append(n)
        }
    }

    func payload(_ file: Int, _ n: Int, _ size: Int) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ n &* 7 &+ file) }
    }

    func chunk(_ file: Int, n: Int, size: Int, filesId: BSONValue? = nil) -> BSONDocument {
        var doc = BSONDocument()
        doc.append("_id", .int32(Int32(file * 1000 + n)))
        doc.append("files_id", filesId ?? .int32(Int32(file)))
        doc.append("n", .int32(Int32(n)))
        doc.appendBinary("data", subtype: 0, payload: payload(file, n, size))
        return doc
    }

    func read(_ engine: any StorageEngine, _ ns: Namespace, filesId: BSONValue, _ first: Int64, _ last: Int64,
              maxBytes: Int, generic: Bool = false) async throws -> (Collected, Int64) {
        var sink = Collected()
        var next = first
        while next <= last {
            let request = ChunkPayloadRequest(chunks: ns, filesId: filesId, first: next, last: last, maxBytes: maxBytes)
            let after = generic ? try await engine.readChunkPayloadsByQuery(request, into: &sink)
                : try await engine.readChunkPayloads(request, into: &sink)
            if after == next { break }
            next = after
        }
        return (sink, next)
    }

    @Test func sameBytesAsTheQueryPathForEveryRangeAndBatch() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let engine = try await SQLiteStorageEngine.open(directory: dir.url.path, logger: Logger(label: "test"))
        // File 1: five chunks in a segment file (the last one short); file 2: payloads under 1 KiB
        // (kept in the rows); file 3: a gap at n = 2.
        var docs = (0..<5).map { chunk(1, n: $0, size: $0 == 4 ? 1234 : 5000) }
        docs += (0..<3).map { chunk(2, n: $0, size: 300) }
        docs += [0, 1, 3].map { chunk(3, n: $0, size: 2000) }
        _ = try await engine.insert(docs.shuffled(), into: chunks, ordered: true)

        let whole1 = (0..<5).flatMap { payload(1, $0, $0 == 4 ? 1234 : 5000) }
        for (first, last) in [(0, 4), (0, 0), (1, 3), (4, 4), (3, 4)] {
            for maxBytes in [1, 4999, 5000, 10_001, 1 << 20] {
                let (got, next) = try await read(engine, chunks, filesId: .int32(1), Int64(first), Int64(last), maxBytes: maxBytes)
                let (byQuery, _) = try await read(engine, chunks, filesId: .int32(1), Int64(first), Int64(last),
                                                  maxBytes: maxBytes, generic: true)
                let from = first * 5000, to = min(whole1.count, (last + 1) * 5000)
                #expect(got.bytes == Array(whole1[from..<to]), "\(first)-\(last) by \(maxBytes)")
                #expect(got.bytes == byQuery.bytes)
                #expect(got.numbers == Array(Int64(first)...Int64(last)))
                #expect(next == Int64(last) + 1)
            }
        }
        // One call stops before passing maxBytes, but always takes a chunk.
        var sink = Collected()
        let after = try await engine.readChunkPayloads(
            ChunkPayloadRequest(chunks: chunks, filesId: .int32(1), first: 0, last: 4, maxBytes: 12_000), into: &sink)
        #expect(after == 2 && sink.numbers == [0, 1])

        let (small, _) = try await read(engine, chunks, filesId: .int32(2), 0, 2, maxBytes: 1 << 20)
        #expect(small.bytes == (0..<3).flatMap { payload(2, $0, 300) })

        let (gap, stopped) = try await read(engine, chunks, filesId: .int32(3), 0, 3, maxBytes: 1 << 20)
        #expect(stopped == 2 && gap.numbers == [0, 1])
        // Numbers compare by value: an int64 id finds the int32 files_id, as a query would.
        let (wide, _) = try await read(engine, chunks, filesId: .int64(2), 0, 2, maxBytes: 1 << 20)
        #expect(wide.bytes == small.bytes)
        let (none, nothing) = try await read(engine, chunks, filesId: .int32(9), 0, 2, maxBytes: 1 << 20)
        #expect(none.numbers.isEmpty && nothing == 0)
        await engine.close()
    }

    @Test func rowsStoredWholeAfterARenameIntoAChunksName() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let engine = try await SQLiteStorageEngine.open(directory: dir.url.path, logger: Logger(label: "test"))
        let plain = Namespace(unchecked: "db", "archive")
        let docs = (0..<3).map { chunk(5, n: $0, size: 3000, filesId: .string("five")) }
        _ = try await engine.insert(docs, into: plain, ordered: true)
        let target = Namespace(unchecked: "db", "old.chunks")
        try await engine.renameCollection(from: plain, to: target, dropTarget: false)
        let (got, next) = try await read(engine, target, filesId: .string("five"), 0, 2, maxBytes: 4000)
        #expect(got.bytes == (0..<3).flatMap { payload(5, $0, 3000) })
        #expect(next == 3)
        await engine.close()
    }

    @Test func aDamagedPayloadIsRefusedAndCounted() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let engine = try await SQLiteStorageEngine.open(directory: dir.url.path, logger: Logger(label: "test"))
        _ = try await engine.insert((0..<3).map { chunk(1, n: $0, size: 5000) }, into: chunks, ordered: true)
        let rows = try await engine.read { c in try c.query("SELECT seg, off FROM c1 ORDER BY rid") }
        guard case .integer(let seg) = rows[1][0], case .integer(let off) = rows[1][1] else {
            Issue.record("chunk not in a segment"); return
        }
        let handle = try #require(FileHandle(forUpdatingAtPath: dir.path("blobs/\(seg).seg")))
        try handle.seek(toOffset: UInt64(off + 4321))
        let byte = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: UInt64(off + 4321))
        try handle.write(contentsOf: [byte ^ 0x01])
        try handle.close()

        let before = DataIntegrity.corruptionsDetected
        var sink = Collected()
        do {
            _ = try await engine.readChunkPayloads(
                ChunkPayloadRequest(chunks: chunks, filesId: .int32(1), first: 0, last: 2, maxBytes: 1 << 20), into: &sink)
            Issue.record("a damaged chunk was read")
        } catch let error as StorageError {
            #expect(error.code == 301)
            #expect(error.message.contains("chunk n=1 of files_id 1"), "\(error.message)")
        }
        #expect(DataIntegrity.corruptionsDetected >= before + 1)
        // The chunk before the damage still reads.
        var first = Collected()
        let after = try await engine.readChunkPayloads(
            ChunkPayloadRequest(chunks: chunks, filesId: .int32(1), first: 0, last: 0, maxBytes: 1 << 20), into: &first)
        #expect(after == 1 && first.bytes == payload(1, 0, 5000))
        await engine.close()
    }
}
