import BSON
import Query
import Storage
import Testing

@Suite struct BlockingSortTests {
    /// Documents with few distinct sort values, so ties are common.
    let docs: [BSONDocument] = (0..<500).map { ["_id": .int32(Int32($0)), "v": .int32(Int32(($0 * 7919) % 37))] }

    func reference(_ sort: SortSpec) -> [BSONDocument] {
        docs.enumerated().sorted { a, b in
            let c = sort.compare(a.element, b.element)
            return c != 0 ? c < 0 : a.offset < b.offset
        }.map(\.element)
    }

    @Test(arguments: [(0, 0), (0, 1), (3, 10), (100, 250), (490, 50), (0, 500), (600, 5)])
    func topKMatchesAFullStableSort(skip: Int, limit: Int) throws {
        for spec in [["v": 1], ["v": -1]] as [BSONDocument] {
            let sort = try SortSpec(spec)
            var sorter = BlockingSort<Void>(sort: sort, skip: skip, limit: limit)
            for doc in docs { try sorter.add(doc) }
            let expected = reference(sort).dropFirst(skip)
            #expect(sorter.finish().map(\.doc) == Array(limit > 0 ? expected.prefix(limit) : expected))
        }
    }

    @Test func boundIsMongodsError() throws {
        var sorter = BlockingSort<Void>(sort: try SortSpec(["v": 1]), skip: 0, limit: 0, memoryLimit: 1000)
        do {
            for doc in docs { try sorter.add(doc) }
            Issue.record("expected 292")
        } catch let e as MongoError {
            #expect(e.code == 292 && e.codeName == "QueryExceededMemoryLimitNoDiskUseAllowed")
            #expect(e.message == "Sort exceeded memory limit of 1000 bytes, but did not opt in to external sorting.")
        }
        // The same data under a limit keeps only what matters and fits.
        var limited = BlockingSort<Void>(sort: try SortSpec(["v": 1]), skip: 1, limit: 2, memoryLimit: 1000)
        for doc in docs { try limited.add(doc) }
        #expect(limited.finish().count == 2)
    }

    @Test func hugeLimitsDoNotOverflow() throws {
        var sorter = BlockingSort<Void>(sort: try SortSpec(["v": 1]), skip: .max, limit: .max)
        for doc in docs.prefix(10) { try sorter.add(doc) }
        #expect(sorter.finish().isEmpty)
        var big = BlockingSort<Void>(sort: try SortSpec(["v": 1]), skip: 0, limit: .max / 2 + 1)
        for doc in docs { try big.add(doc) }
        #expect(big.finish().count == docs.count)
    }
}
