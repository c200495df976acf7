import BSON
import Foundation
import Logging
import NIOCore
@testable import PostgresStorage
import Query
import Storage
import Testing

/// PostgreSQL-only behaviour the conformance suite cannot see from outside: the chunk table and a
/// plan made stale by a concurrent multikey document. Needs `GRIDLITE_TEST_POSTGRES_URL` (`make
/// test` starts a cluster).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["GRIDLITE_TEST_POSTGRES_URL"].map { !$0.isEmpty } ?? false))
struct PostgresEngineTests {
    private static let engine: Task<PostgresStorageEngine, any Error> = Task {
        let text = ProcessInfo.processInfo.environment["GRIDLITE_TEST_POSTGRES_URL"] ?? ""
        return try await PostgresStorageEngine.open(url: try PostgresURL(text), logger: Logger(label: "pg-tests"))
    }

    private func namespace(_ collection: String) -> Namespace {
        Namespace(unchecked: "pgt_\(UUID().uuidString.prefix(8).lowercased())", collection)
    }

    private func spec(_ name: String, _ key: [(String, Int)], unique: Bool = false) -> IndexSpec {
        var doc: BSONDocument = ["v": .int32(2), "key": .document(BSONDocument(key.map { ($0.0, BSONValue.int32(Int32($0.1))) })), "name": .string(name)]
        if unique { doc.append("unique", .bool(true)) }
        return IndexSpec(name: name, key: key.map { (path: $0.0, direction: $0.1) }, unique: unique, spec: doc)
    }

    private func chunk(_ id: Int32, files: Int32, n: Int32) -> BSONDocument {
        ["_id": .int32(id), "files_id": .int32(files), "n": .int32(n), "data": .binary(BSONBinary(subtype: 0, data: [UInt8](repeating: UInt8(n), count: 3)))]
    }

    private func all(_ engine: PostgresStorageEngine, _ ns: Namespace, _ filter: BSONDocument, sort: BSONDocument? = nil) async throws -> [BSONDocument] {
        let cursor = try await engine.find(FindQuery(namespace: ns, filter: try Filter(filter), sort: try sort.map { try SortSpec($0) }))
        var out: [BSONDocument] = []
        while true {
            let docs = try await cursor.nextBatch(maxCount: 2, maxBytes: 16 << 20)
            if docs.isEmpty { break }
            out += docs
        }
        return out
    }

    @Test func chunkCollectionsKeepTheirFilesIdAndNIndexInTheTable() async throws {
        let engine = try await Self.engine.value
        let ns = namespace("fs.chunks")
        // Documents before the index: the index build fills the key column.
        _ = try await engine.insert([chunk(1, files: 7, n: 1), chunk(2, files: 7, n: 0), chunk(3, files: 8, n: 0)], into: ns, ordered: true)
        _ = try await engine.createIndexes([spec("files_id_1_n_1", [("files_id", 1), ("n", 1)], unique: true)], on: ns)
        let entry = try #require(try await engine.withSession { s in try PGCatalog.entry(s, ns, lock: nil) })
        #expect(entry.chunkLayout)
        #expect(entry.keyColumnIndex?.spec.name == "files_id_1_n_1")
        #expect(entry.tableIndexes.isEmpty)
        // Batch and single inserts after it, then a duplicate (files_id, n).
        _ = try await engine.insert([chunk(4, files: 7, n: 2), chunk(5, files: 7, n: 3)], into: ns, ordered: true)
        let clash = try await engine.insert([chunk(6, files: 7, n: 2)], into: ns, ordered: true)
        #expect(clash.inserted == 0)
        #expect(clash.writeErrors.first?.error.code == 11000)
        #expect(clash.writeErrors.first?.error.message.contains("files_id_1_n_1") == true)
        // A range on files_id and n reads the table's key column, in n order.
        let found = try await all(engine, ns, ["files_id": .int32(7), "n": .document(["$gte": .int32(1)])], sort: ["n": .int32(1)])
        #expect(found.map { $0["_id"] } == [.int32(1), .int32(4), .int32(5)])
        // An update that moves a chunk onto another's (files_id, n) fails alone; the command goes on.
        let moved = try await engine.update([UpdateStatement(filter: try Filter(["_id": .int32(5)]), update: try UpdateSpec(["$set": .document(["n": .int32(0)])]),
                                                             multi: false, upsert: false),
                                             UpdateStatement(filter: try Filter(["_id": .int32(5)]), update: try UpdateSpec(["$set": .document(["n": .int32(9)])]),
                                                             multi: false, upsert: false)], in: ns, ordered: false)
        #expect(moved.writeErrors.map(\.error.code) == [11000])
        #expect(moved.modified == 1)
        #expect(try await all(engine, ns, ["files_id": .int32(7), "n": .int32(9)]).map { $0["_id"] } == [.int32(5)])
        // An array under files_id cannot be one key: 171, nothing stored.
        let array = try await engine.insert([["_id": .int32(9), "files_id": .array([.int32(1), .int32(2)]), "n": .int32(0)]], into: ns, ordered: true)
        #expect(array.writeErrors.first?.error.code == 171)
        let report = try await engine.validate(ns, full: true)
        #expect(report.errors.isEmpty, "\(report.errors)")
        #expect(report.recordsChecked == 5)
    }

    @Test func aUniqueChunkIndexOverDuplicatesIs11000() async throws {
        let engine = try await Self.engine.value
        let ns = namespace("fs.chunks")
        _ = try await engine.insert([chunk(1, files: 7, n: 0), chunk(2, files: 7, n: 0)], into: ns, ordered: true)
        await #expect(throws: MongoError.self) {
            _ = try await engine.createIndexes([spec("files_id_1_n_1", [("files_id", 1), ("n", 1)], unique: true)], on: ns)
        }
        let entry = try #require(try await engine.withSession { s in try PGCatalog.entry(s, ns, lock: nil) })
        #expect(entry.keyColumnIndex == nil)
    }

    @Test func aPlanMadeBeforeAnIndexTurnedMultikeyIsCaughtAndRedone() async throws {
        let engine = try await Self.engine.value
        let ns = namespace("c")
        _ = try await engine.insert([["_id": .int32(1), "a": .int32(7)]], into: ns, ordered: true)
        _ = try await engine.createIndexes([spec("a_1", [("a", 1)])], on: ns)
        // What a command looked up before another connection's multikey document committed.
        let stale = try #require(try await engine.withSession { s in try PGCatalog.entry(s, ns, lock: nil) })
        #expect(stale.indexes.contains { $0.spec.name == "a_1" && !$0.multikey })
        _ = try await engine.insert([["_id": .int32(2), "a": .array([.int32(1), .int32(10)])]], into: ns, ordered: true)
        // Single-key bounds intersect $gt 5 and $lt 3 to nothing and would miss document 2.
        let filter = try Filter(["a": .document(["$gt": .int32(5), "$lt": .int32(3)])])
        let plan = try QueryPlanner.plan(filter: filter, sort: nil, indexes: stale.descriptors, hint: .name("a_1"))
        await #expect(throws: StalePlan.self) {
            try await engine.withSession { s in
                var position = ScanPosition()
                try PGScanner(session: s, entry: stale, lockRows: false).scan(plan, from: &position) { _, _ in .next }
            }
        }
        // The engine's own commands plan again and find it once.
        #expect(try await all(engine, ns, ["a": .document(["$gt": .int32(5), "$lt": .int32(3)])]).map { $0["_id"] } == [.int32(2)])
        let updated = try await engine.update([UpdateStatement(filter: filter, update: try UpdateSpec(["$inc": .document(["hits": .int32(1)])]),
                                                               multi: true, upsert: false)], in: ns, ordered: true)
        #expect(updated.matched == 1 && updated.writeErrors.isEmpty)
    }

    /// Writes a deferred batch's documents out, as the reply writer does.
    private func written(_ batch: DeferredBatch) throws -> [BSONDocument] {
        try batch.documents.map { document in
            var bytes = [UInt8](repeating: 0xEE, count: document.byteCount)
            try bytes.withUnsafeMutableBytes { try document.write(into: $0) }
            return try #require(BSONDocument(storedBytes: bytes))
        }
    }

    @Test func chunkDownloadsAreDeferredAndReadOneBatchAhead() async throws {
        let engine = try await Self.engine.value
        let ns = namespace("fs.chunks")
        _ = try await engine.createIndexes([spec("files_id_1_n_1", [("files_id", 1), ("n", 1)], unique: true)], on: ns)
        let chunks = (0..<10).map { n -> BSONDocument in
            ["_id": .int32(100 + n), "files_id": .int32(7), "n": .int32(n),
             "data": .binary(BSONBinary(subtype: 0, data: (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(n)) }))]
        }
        _ = try await engine.insert(chunks, into: ns, ordered: true)
        var query = FindQuery(namespace: ns, filter: try Filter(["files_id": .int32(7), "n": .document(["$gte": .int32(0)])]),
                              sort: try SortSpec(["n": .int32(1)]))
        query.firstBatch = BatchLimits(count: 3, bytes: 16 << 20)
        let cursor = try await engine.find(query)
        var out: [BSONDocument] = []
        while let batch = try await cursor.nextDeferredBatch(maxCount: 3, maxBytes: 16 << 20), !batch.documents.isEmpty {
            #expect(batch.documents.allSatisfy { $0.payloadBytes == 1000 })
            out += try written(batch)
        }
        #expect(out == chunks)
        #expect(await cursor.isExhausted)

        // A batch read ahead is not handed out once the collection is gone.
        let again = try await engine.find(query)
        #expect(try await again.nextDeferredBatch(maxCount: 3, maxBytes: 16 << 20)?.documents.count == 3)
        #expect(await (again as? PostgresCursor)?.settleReadAhead() == true)
        _ = try await engine.dropCollection(ns)
        var after: [BSONDocument] = []
        do {
            if let batch = try await again.nextDeferredBatch(maxCount: 3, maxBytes: 16 << 20) { after = try written(batch) }
        } catch {}
        #expect(after.isEmpty)
        await again.close()

        // Other filters, and other collections, are not deferred.
        let other = try await engine.find(FindQuery(namespace: ns, filter: try Filter(["data": .document(["$exists": .bool(true)])])))
        #expect(try await other.nextDeferredBatch(maxCount: 3, maxBytes: 1 << 20) == nil)
    }

    @Test func aCachedCatalogEntryIsCheckedInTheFindsOwnRoundTrip() async throws {
        let engine = try await Self.engine.value
        // A second daemon on the same database: its own catalog cache.
        let text = ProcessInfo.processInfo.environment["GRIDLITE_TEST_POSTGRES_URL"] ?? ""
        let other = try await PostgresStorageEngine.open(url: try PostgresURL(text), logger: Logger(label: "pg-tests-2"))
        defer { Task { await other.close() } }
        let ns = namespace("c")
        _ = try await engine.insert([["_id": .int32(1), "a": .int32(7)]], into: ns, ordered: true)
        _ = try await engine.createIndexes([spec("a_1", [("a", 1)])], on: ns)
        #expect(try await all(engine, ns, ["a": .int32(7)]).map { $0["_id"] } == [.int32(1)])
        #expect(engine.catalogCache.get(ns) != nil)
        // The other daemon turns a_1 multikey: single-key bounds ($gt 5 and $lt 3 intersected)
        // would miss document 2; the check sees the flag and the find is planned again.
        _ = try await other.insert([["_id": .int32(2), "a": .array([.int32(1), .int32(10)])]], into: ns, ordered: true)
        #expect(try await all(engine, ns, ["a": .document(["$gt": .int32(5), "$lt": .int32(3)])]).map { $0["_id"] } == [.int32(2)])
        // The other daemon drops the collection and makes it again: a new table, new documents.
        _ = try await other.dropCollection(ns)
        #expect(try await all(engine, ns, [:]).isEmpty)
        _ = try await other.insert([["_id": .int32(3), "a": .int32(7)]], into: ns, ordered: true)
        #expect(try await all(engine, ns, ["a": .int32(7)]).map { $0["_id"] } == [.int32(3)])
        // And indexes it: the cached entry's version is behind, the find sees the index.
        _ = try await other.createIndexes([spec("a_1", [("a", 1)], unique: true)], on: ns)
        #expect(try await all(engine, ns, ["a": .int32(7)]).map { $0["_id"] } == [.int32(3)])
        #expect(engine.catalogCache.get(ns)?.indexes.contains { $0.spec.name == "a_1" && $0.spec.unique } == true)
    }
}

/// The stand-in documents of deferred chunk reads (no PostgreSQL needed).
struct PGDeferredChunksTests {
    private func buffer(_ doc: BSONDocument) -> ByteBuffer { ByteBuffer(bytes: doc.bytes) }

    @Test func theStandInLacksOnlyThePayloadWhereverDataIs() throws {
        let payload = [UInt8](repeating: 9, count: 300)
        let docs: [BSONDocument] = [
            ["_id": .objectId(ObjectId()), "files_id": .objectId(ObjectId()), "n": .int32(4), "data": .binary(BSONBinary(subtype: 0, data: payload))],
            ["data": .binary(BSONBinary(subtype: 0, data: payload)), "n": .int64(4), "files_id": .string("f"), "x": .document(["a": .double(1)])],
            ["_id": .int32(1), "t": .bool(true), "z": .null, "d": .decimal128(Decimal128(low: 1, high: 0x3040_0000_0000_0000)),
             "data": .binary(BSONBinary(subtype: 0, data: payload)), "after": .array([.int32(1)])],
        ]
        for doc in docs {
            let (stub, deferred) = try #require(PGDeferredChunks.read(buffer(doc)))
            #expect(deferred.byteCount == doc.bytes.count)
            #expect(deferred.payloadBytes == 300)
            var expected = doc
            expected.set("data", .binary(BSONBinary(subtype: 0, data: [])))
            #expect(stub == expected)
            var out = [UInt8](repeating: 0, count: deferred.byteCount)
            try out.withUnsafeMutableBytes { try deferred.write(into: $0) }
            #expect(out == doc.bytes)
            var short = [UInt8](repeating: 0, count: deferred.byteCount - 1)
            #expect(throws: (any Error).self) { try short.withUnsafeMutableBytes { try deferred.write(into: $0) } }
        }
    }

    @Test func rowsItCannotWalkAreReadWholeAndBrokenFramingIsRefused() throws {
        // A regular expression is not sized by the walk: the row is read whole (and still right).
        let odd: BSONDocument = ["r": .regex(BSONRegex(pattern: "a", options: "")), "data": .binary(BSONBinary(subtype: 0, data: [1, 2]))]
        let (whole, deferred) = try #require(PGDeferredChunks.read(buffer(odd)))
        #expect(whole == odd)
        #expect(deferred.payloadBytes == 2)
        // No data field: the document itself.
        let plain: BSONDocument = ["_id": .int32(1)]
        #expect(try #require(PGDeferredChunks.read(buffer(plain))).0 == plain)
        // Wrong length prefix, missing terminator, a length that runs past the end.
        var bytes = odd.bytes
        bytes[0] &+= 1
        #expect(PGDeferredChunks.read(ByteBuffer(bytes: bytes)) == nil)
        bytes = odd.bytes
        bytes[bytes.count - 1] = 1
        #expect(PGDeferredChunks.read(ByteBuffer(bytes: bytes)) == nil)
        var lying = (["data": .binary(BSONBinary(subtype: 0, data: [1, 2, 3]))] as BSONDocument).bytes
        lying[4 + 1 + 5] = 200
        #expect(PGDeferredChunks.payloadRange(UnsafeRawBufferPointer(start: nil, count: 0)) == nil)
        let range = lying.withUnsafeBytes { PGDeferredChunks.payloadRange($0) }
        #expect(range == nil)
    }
}
