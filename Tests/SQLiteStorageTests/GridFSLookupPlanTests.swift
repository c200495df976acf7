import BSON
import Foundation
import Logging
import Query
import Storage
import Testing
@testable import SQLiteStorage

/// The lookups a GridFS download makes are single index range scans: the planner picks one index
/// and one key range for each, and SQLite runs the exact statement ``Scanner`` issues as one
/// `SEARCH` through that index, with no table scan and no temporary sort (`EXPLAIN QUERY PLAN`),
/// also when resuming from a cursor position (a getMore).
@Suite struct GridFSLookupPlanTests {
    @Test func filesAndChunksLookupsAreOneIndexRangeEach() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let engine = try await SQLiteStorageEngine.open(directory: dir.url.path, logger: Logger(label: "test"))
        let files = Namespace(unchecked: "db", "fs.files")
        let chunks = Namespace(unchecked: "db", "fs.chunks")
        let id = ObjectId()
        let date = BSONValue.datetime(1_700_000_000_000)
        _ = try await engine.insert([["_id": .objectId(id), "length": .int64(10), "chunkSize": .int32(261_120),
                                      "uploadDate": date, "filename": "a.bin"]], into: files, ordered: true)
        var chunk = BSONDocument()
        chunk.append("_id", .objectId(ObjectId()))
        chunk.append("files_id", .objectId(id))
        chunk.append("n", .int32(0))
        chunk.appendBinary("data", subtype: 0, payload: [UInt8](repeating: 7, count: 10))
        _ = try await engine.insert([chunk], into: chunks, ordered: true)
        // The indexes pymongo creates before its first upload.
        _ = try await engine.createIndexes([IndexSpec(
            name: "filename_1_uploadDate_1", key: [("filename", 1), ("uploadDate", 1)], unique: false,
            spec: ["v": 2, "key": .document(["filename": 1, "uploadDate": 1]), "name": "filename_1_uploadDate_1"])], on: files)
        _ = try await engine.createIndexes([IndexSpec(
            name: "files_id_1_n_1", key: [("files_id", 1), ("n", 1)], unique: true,
            spec: ["v": 2, "key": .document(["files_id": 1, "n": 1]), "name": "files_id_1_n_1", "unique": true])], on: chunks)

        let lookups: [(Namespace, BSONDocument, BSONDocument?, String)] = [
            (files, ["_id": .objectId(id)], nil, "open_download_stream: files by _id"),
            (files, ["_id": .document(["$eq": .objectId(id)])], nil, "pymongo 4.20's files by {_id: {$eq}}"),
            (files, ["filename": "a.bin"], ["uploadDate": -1], "by name, newest revision"),
            (files, ["filename": "a.bin"], ["uploadDate": 1], "by name, oldest revision"),
            (chunks, ["files_id": .objectId(id)], ["n": 1], "chunks of a file in order"),
            (chunks, ["files_id": .document(["$eq": .objectId(id)])], ["n": 1], "chunks by {files_id: {$eq}}"),
            (chunks, ["files_id": .objectId(id), "n": .document(["$gte": 3])], ["n": 1], "chunks from n (a seek)"),
        ]
        for (namespace, filter, sort, what) in lookups {
            let entry = try #require(engine.catalog.entry(namespace))
            let plan = try QueryPlanner.plan(filter: try Filter(filter), sort: try sort.map { try SortSpec($0) },
                                             indexes: SQLiteStorageEngine.usableIndexes(entry), hint: nil)
            guard case .index(let name, let ranges, let reverse) = plan.scan else {
                Issue.record("\(what): not an index scan: \(plan.scan)"); continue
            }
            #expect(ranges.count == 1, "\(what): \(ranges.count) ranges")
            if sort != nil { #expect(plan.providesSort, "\(what): needs a sort") }
            let index = try #require(entry.indexes.first { $0.spec.name == name })
            var resumed = ScanPosition()
            resumed.lastKey = ranges[0].lower ?? [0]
            resumed.lastRecord = 1
            for position in [ScanPosition(), resumed] {
                let (sql, bindings) = Scanner.rangeQuery(entry: entry, index: index, range: ranges[0], reverse: reverse, position: position)
                let steps = try await engine.read { c in try c.query("EXPLAIN QUERY PLAN " + sql, bindings) }
                let details = steps.compactMap { row -> String? in
                    guard case .text(let text)? = row.last else { return nil }
                    return text
                }
                #expect(details.count == 1, "\(what): \(details)")
                #expect(details.allSatisfy { $0.hasPrefix("SEARCH") && $0.contains("INDEX") }, "\(what): \(details)")
                #expect(!details.contains { $0.contains("TEMP B-TREE") || $0.hasPrefix("SCAN") }, "\(what): \(details)")
            }
        }
        await engine.close()
    }
}
