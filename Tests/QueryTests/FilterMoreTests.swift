import BSON
import TestSupport
import Testing
@testable import Query

@Suite struct LargeInListTests {
    @Test func hashedLookupAgreesWithLinear() throws {
        var items: [BSONValue] = (0..<50).map { .int32(Int32($0 * 2)) }
        items.append(.string("s"))
        items.append(.double(101.5))
        let f = try Filter(["a": .document(["$in": .array(items)])])
        #expect(f.matches(["a": .int64(4)]))
        #expect(f.matches(["a": .double(98)]))
        #expect(!f.matches(["a": .int32(3)]))
        #expect(f.matches(["a": .string("s")]))
        #expect(f.matches(["a": .double(101.5)]))
        #expect(f.matches(["a": .array([.int32(1), .int32(6)])]))
        #expect(!f.matches([:]))
        let withNull = try Filter(["a": .document(["$in": .array(items + [.null])])])
        #expect(withNull.matches([:]))
        #expect(!withNull.matches(["a": .undefined]))
    }
}

@Suite struct FilterDifferentialTests {
    static func isScalar(_ v: BSONValue) -> Bool {
        switch v {
        case .array, .null, .undefined, .regex, .minKey, .maxKey: return false
        case .double(let d): return !d.isNaN
        case .decimal128(let d): return !d.doubleValue.isNaN
        default: return true
        }
    }

    @Test(arguments: [21, 22, 23])
    func comparisonOperatorsAgreeWithComparator(seed: UInt64) throws {
        var g = SplitMix64(state: seed)
        let values = (0..<60).map { _ in RandomBSON.value(&g, depth: 1) }.filter(Self.isScalar)
        for x in values {
            let filters = try ["$eq", "$gt", "$gte", "$lt", "$lte", "$ne"].map { op in
                (op, try Filter(["a": .document([op: x])]))
            }
            let inFilter = try Filter(["a": .document(["$in": .array(Array(repeating: x, count: 9))])])
            for y in values {
                let doc: BSONDocument = ["a": y]
                let c = compareBSON(y, x)
                let sameClass = BSONComparator.typeRank(x) == BSONComparator.typeRank(y)
                for (op, f) in filters {
                    let expected: Bool
                    switch op {
                    case "$eq": expected = c == 0
                    case "$ne": expected = c != 0
                    case "$gt": expected = sameClass && c > 0
                    case "$gte": expected = sameClass && c >= 0
                    case "$lt": expected = sameClass && c < 0
                    default: expected = sameClass && c <= 0
                    }
                    #expect(f.matches(doc) == expected, "\(op) \(x) on \(y)")
                }
                #expect(inFilter.matches(doc) == (c == 0), "$in \(x) on \(y)")
            }
        }
    }
}

@Suite struct FilterTrickyCases {
    static let cases: [MatchCase] = [
        ("{\"a.b\": {\"$in\": [null]}}", "{\"a\": [{\"b\": 1}, {}]}", true),
        ("{\"a\": {\"$exists\": true, \"$ne\": null}}", "{\"a\": null}", false),
        ("{\"a\": {\"$exists\": true, \"$ne\": null}}", "{\"a\": 0}", true),
        ("{\"a\": {\"$not\": {\"%regex\": \"^X\", \"%options\": \"i\"}}}", "{\"a\": \"xy\"}", false),
        ("{\"a\": {\"$not\": {\"$elemMatch\": {\"$gt\": 1}}}}", "{\"a\": [0, 1]}", true),
        ("{\"a\": {\"$not\": {\"$size\": 1}}}", "{\"a\": [0, 1]}", true),
        ("{\"a.0.b\": 2}", "{\"a\": [[{\"b\": 2}]]}", true),
        ("{\"a.b\": [1, 2]}", "{\"a\": [{\"b\": [1, 2]}]}", true),
        ("{\"a.b\": 2}", "{\"a\": {\"b\": [[2]]}}", false),
        ("{\"a.b\": [2]}", "{\"a\": {\"b\": [[2]]}}", true),
        ("{\"a\": {\"$gt\": 1}}", "{\"a\": [[5]]}", false),
        ("{\"a\": {\"$size\": 0}}", "{\"a\": {}}", false),
        ("{\"a\": {\"%type\": \"array\"}}", "{\"a\": [[1]]}", true),
        ("{\"a\": {\"$all\": [1, 1]}}", "{\"a\": [1]}", true),
        ("{\"a\": {\"$in\": [{\"b\": 1}]}}", "{\"a\": [{\"b\": 1}]}", true),
        ("{\"a\": {\"$in\": [{\"b\": 1}]}}", "{\"a\": {\"b\": 1.0}}", true),
        ("{\"a\": {\"$elemMatch\": {\"b\": null}}}", "{\"a\": [{\"c\": 1}]}", true),
        ("{\"a\": {\"$elemMatch\": {\"b\": {\"$exists\": false}}}}", "{\"a\": [{\"b\": 1}, {\"c\": 1}]}", true),
        ("{\"$or\": [{\"a\": {\"$elemMatch\": {\"x\": 1}}}, {\"b\": 2}]}", "{\"a\": [{\"x\": 2}], \"b\": 2}", true),
        ("{\"a\": {\"$lte\": [1, 2]}}", "{\"a\": [1, 1]}", true),
        ("{\"a\": {\"$lte\": [1, 2]}}", "{\"a\": [1, 3]}", false),
        ("{\"a\": {\"$gt\": {\"$numberDecimal\": \"1.5\"}}}", "{\"a\": 2}", true),
        ("{\"a\": {\"$eq\": {\"$numberDecimal\": \"2\"}}}", "{\"a\": {\"$numberLong\": \"2\"}}", true),
        ("{\"a\": {\"$lt\": {\"$date\": {\"$numberLong\": \"-1\"}}}}", "{\"a\": {\"$date\": {\"$numberLong\": \"-100\"}}}", true),
        ("{\"a\": {\"$gt\": {\"$timestamp\": {\"t\": 1, \"i\": 0}}}}", "{\"a\": {\"$timestamp\": {\"t\": 1, \"i\": 1}}}", true),
        ("{\"a\": {\"$gt\": {\"$oid\": \"5f0000000000000000000001\"}}}", "{\"a\": {\"$oid\": \"5f0000000000000000000002\"}}", true),
        ("{\"a\": {\"$gt\": false}}", "{\"a\": true}", true),
        ("{\"a\": {\"$gt\": false}}", "{\"a\": 1}", false),
        ("{\"_id\": {\"$in\": [1, 2, 3]}, \"x\": {\"$nin\": [4]}}", "{\"_id\": 2, \"x\": 5}", true),
        ("{\"$and\": [{\"a\": {\"$gt\": 1}}, {\"a\": {\"$lt\": 3}}]}", "{\"a\": [0, 4]}", true),
        ("{\"a\": {\"$elemMatch\": {\"$gt\": 1, \"$lt\": 3}}}", "{\"a\": [0, 4]}", false),
    ]

    @Test(arguments: cases) func tricky(_ c: MatchCase) throws { try FilterMatchTests.check(c) }
}
