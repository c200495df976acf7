import BSON
import Query
import Testing

@testable import Storage

/// The planner is the pushdown hook every backend shares; these pin down its choices.
@Suite struct QueryPlannerTests {
    let idIndex = IndexDescriptor(name: "_id_", key: [("_id", 1)], unique: true, multikey: false)
    let chunkIndex = IndexDescriptor(name: "files_id_1_n_1", key: [("files_id", 1), ("n", 1)], unique: true, multikey: false)
    let nameIndex = IndexDescriptor(name: "filename_1_uploadDate_1", key: [("filename", 1), ("uploadDate", 1)], unique: false, multikey: false)
    let tagsIndex = IndexDescriptor(name: "tags_1", key: [("tags", 1)], unique: false, multikey: true)

    var all: [IndexDescriptor] { [idIndex, chunkIndex, nameIndex, tagsIndex] }

    func plan(_ filter: BSONDocument, sort: BSONDocument? = nil, hint: IndexTarget? = nil) throws -> AccessPlan {
        try QueryPlanner.plan(filter: Filter(filter), sort: sort.map { try SortSpec($0) }, indexes: all, hint: hint)
    }

    func ranges(_ p: AccessPlan) -> [KeyRange] {
        if case .index(_, let r, _) = p.scan { return r }
        return []
    }

    func reversed(_ p: AccessPlan) -> Bool {
        if case .index(_, _, let r) = p.scan { return r }
        return false
    }

    @Test func equalityOnIdUsesTheIdIndexWithOneExactPrefix() throws {
        let p = try plan(["_id": .int32(5)])
        #expect(p.indexName == "_id_")
        #expect(ranges(p) == [KeyRange.prefix(IndexKeyEncoder.encode(.int32(5)))])
        // 5, 5.0 and NumberLong(5) are one key.
        #expect(ranges(try plan(["_id": .double(5)])) == ranges(p))
    }

    @Test func chunkDownloadIsPinnedAndOrderedByN() throws {
        let fid = BSONValue.objectId(ObjectId())
        let p = try plan(["files_id": .document(["$eq": fid])], sort: ["n": .int32(1)])
        #expect(p.indexName == "files_id_1_n_1")
        #expect(p.providesSort)
        #expect(!reversed(p))
        #expect(ranges(p) == [KeyRange.prefix(IndexKeyEncoder.encode(fid))])
    }

    @Test func seekAfterChunkKUsesARangeOnN() throws {
        let fid = BSONValue.objectId(ObjectId())
        let p = try plan(["files_id": fid, "n": .document(["$gte": .int32(3)])])
        #expect(p.indexName == "files_id_1_n_1")
        let r = try #require(ranges(p).first)
        let key3 = IndexKeyEncoder.encode([fid, .int32(3)])
        let key2 = IndexKeyEncoder.encode([fid, .int32(2)])
        #expect(r.contains(key3))
        #expect(!r.contains(key2))
        #expect(r.contains(IndexKeyEncoder.encode([fid, .int64(1_000_000)])))
        #expect(!r.contains(IndexKeyEncoder.encode([BSONValue.objectId(ObjectId()), .int32(3)])))
    }

    @Test func downloadByNameNewestFirstScansBackwards() throws {
        let p = try plan(["filename": "a.txt"], sort: ["uploadDate": .int32(-1)])
        #expect(p.indexName == "filename_1_uploadDate_1")
        #expect(p.providesSort)
        #expect(reversed(p))
    }

    @Test func anchoredRegexBecomesAPrefixRange() throws {
        let p = try plan(["filename": .document(["$regex": "^abc"])])
        #expect(p.indexName == "filename_1_uploadDate_1")
        let r = try #require(ranges(p).first)
        #expect(r.contains(IndexKeyEncoder.encode([.string("abcdef"), .datetime(1)])))
        #expect(!r.contains(IndexKeyEncoder.encode([.string("abd"), .datetime(1)])))
        // Options or an unanchored pattern cannot be pushed down.
        #expect(try plan(["filename": .regex(BSONRegex(pattern: "^abc", options: "i"))]).indexName == nil)
        #expect(try plan(["filename": .document(["$regex": "abc"])]).indexName == nil)
    }

    @Test func inListExpandsIntoSortedRanges() throws {
        let p = try plan(["_id": .document(["$in": [.int32(9), .int32(1), .string("x")]])])
        #expect(p.indexName == "_id_")
        let keys = ranges(p).compactMap(\.lower)
        #expect(keys.count == 3)
        #expect(keys == keys.sorted { $0.lexicographicallyPrecedes($1) })
    }

    @Test func sortWithoutFilterUsesAnIndexOnlyForOrder() throws {
        let p = try plan([:], sort: ["filename": .int32(1), "uploadDate": .int32(1)])
        #expect(p.indexName == "filename_1_uploadDate_1")
        #expect(p.providesSort)
        #expect(ranges(p) == [KeyRange.all])
        let unsorted = try plan(["other": .int32(1)], sort: ["other": .int32(1)])
        #expect(unsorted.indexName == nil)
        #expect(!unsorted.providesSort)
    }

    @Test func multikeyIndexesServeEqualityButNeverOrder() throws {
        let p = try plan(["tags": "red"], sort: ["tags": .int32(1)])
        #expect(p.indexName == "tags_1")
        #expect(p.mayDuplicate)
        #expect(!p.providesSort)
        #expect(try plan(["tags": .document(["$gt": "a"])]).indexName == nil)
    }

    @Test func unionsAndNegationsAreNotPushedDown() throws {
        #expect(try plan(["$or": [.document(["_id": .int32(1)]), .document(["_id": .int32(2)])]]).indexName == nil)
        #expect(try plan(["_id": .document(["$ne": .int32(1)])]).indexName == nil)
        #expect(try plan(["_id": .null]).indexName == nil)
    }

    @Test func hintForcesAnIndexAndAnUnknownHintIsBadValue() throws {
        let p = try plan(["x": .int32(1)], hint: .name("filename_1_uploadDate_1"))
        #expect(p.indexName == "filename_1_uploadDate_1")
        #expect(try plan([:], hint: .key(["files_id": .int32(1), "n": .int32(1)])).indexName == "files_id_1_n_1")
        let empty = try Filter([:])
        do {
            _ = try QueryPlanner.plan(filter: empty, sort: nil, indexes: all, hint: .name("nope"))
            Issue.record("expected BadValue")
        } catch {
            #expect(error.code == 2)
        }
    }

    @Test func keyRangeSuccessorAndPrefix() {
        #expect(KeyRange.successor(of: [1, 2, 3]) == [1, 2, 4])
        #expect(KeyRange.successor(of: [1, 0xFF]) == [2])
        #expect(KeyRange.successor(of: [0xFF, 0xFF]) == nil)
        let r = KeyRange.prefix([7, 7])
        #expect(r.contains([7, 7]))
        #expect(r.contains([7, 7, 0xFF, 0xFF]))
        #expect(!r.contains([7, 8]))
        #expect(!r.contains([7]))
    }
}
