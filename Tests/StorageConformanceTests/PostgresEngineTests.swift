import BSON
import Foundation
import Logging
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
}
