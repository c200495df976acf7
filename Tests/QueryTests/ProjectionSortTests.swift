import BSON
import Testing
@testable import Query

@Suite struct ProjectionTests {
    /// (projection, source, expected) — expected compared bytewise, so field order matters.
    static let cases: [(String, String, String)] = [
        ("{}", "{\"_id\": 1, \"a\": 1}", "{\"_id\": 1, \"a\": 1}"),
        ("{\"a\": 1}", "{\"_id\": 1, \"a\": 2, \"b\": 3}", "{\"_id\": 1, \"a\": 2}"),
        ("{\"a\": true}", "{\"_id\": 1, \"a\": 2, \"b\": 3}", "{\"_id\": 1, \"a\": 2}"),
        ("{\"b\": 1, \"a\": 1}", "{\"_id\": 1, \"a\": 2, \"b\": 3}", "{\"_id\": 1, \"a\": 2, \"b\": 3}"),
        ("{\"a\": 1, \"_id\": 0}", "{\"_id\": 1, \"a\": 2, \"b\": 3}", "{\"a\": 2}"),
        ("{\"_id\": 0}", "{\"_id\": 1, \"a\": 2, \"b\": 3}", "{\"a\": 2, \"b\": 3}"),
        ("{\"_id\": 1}", "{\"_id\": 1, \"a\": 2}", "{\"_id\": 1}"),
        ("{\"a\": 0}", "{\"_id\": 1, \"a\": 2, \"b\": 3}", "{\"_id\": 1, \"b\": 3}"),
        ("{\"a\": false, \"_id\": 0}", "{\"_id\": 1, \"a\": 2, \"b\": 3}", "{\"b\": 3}"),
        ("{\"c\": 1}", "{\"_id\": 1, \"a\": 2}", "{\"_id\": 1}"),
        ("{\"a.b\": 1}", "{\"_id\": 1, \"a\": {\"b\": 1, \"c\": 2}, \"d\": 3}", "{\"_id\": 1, \"a\": {\"b\": 1}}"),
        ("{\"a.b\": 0}", "{\"_id\": 1, \"a\": {\"b\": 1, \"c\": 2}, \"d\": 3}", "{\"_id\": 1, \"a\": {\"c\": 2}, \"d\": 3}"),
        ("{\"a.b\": 1}", "{\"_id\": 1, \"a\": [{\"b\": 1, \"c\": 2}, {\"c\": 3}, 5]}", "{\"_id\": 1, \"a\": [{\"b\": 1}, {}]}"),
        ("{\"a.b\": 0}", "{\"_id\": 1, \"a\": [{\"b\": 1, \"c\": 2}, 5]}", "{\"_id\": 1, \"a\": [{\"c\": 2}, 5]}"),
        ("{\"a.b\": 1}", "{\"_id\": 1, \"a\": 5}", "{\"_id\": 1}"),
        ("{\"a\": {\"b\": 1}}", "{\"_id\": 1, \"a\": {\"b\": 1, \"c\": 2}}", "{\"_id\": 1, \"a\": {\"b\": 1}}"),
        ("{\"a.b\": 1, \"a.c\": 1}", "{\"_id\": 1, \"a\": {\"c\": 1, \"x\": 0, \"b\": 2}}", "{\"_id\": 1, \"a\": {\"c\": 1, \"b\": 2}}"),
        ("{\"_id.x\": 1}", "{\"_id\": {\"x\": 1, \"y\": 2}, \"a\": 1}", "{\"_id\": {\"x\": 1}}"),
        ("{\"a\": {\"$slice\": 2}}", "{\"_id\": 1, \"a\": [1, 2, 3], \"b\": 1}", "{\"_id\": 1, \"a\": [1, 2], \"b\": 1}"),
        ("{\"a\": {\"$slice\": -1}}", "{\"_id\": 1, \"a\": [1, 2, 3]}", "{\"_id\": 1, \"a\": [3]}"),
        ("{\"a\": {\"$slice\": [1, 1]}}", "{\"_id\": 1, \"a\": [1, 2, 3]}", "{\"_id\": 1, \"a\": [2]}"),
        ("{\"a\": {\"$slice\": [-2, 5]}}", "{\"_id\": 1, \"a\": [1, 2, 3]}", "{\"_id\": 1, \"a\": [2, 3]}"),
        ("{\"a\": {\"$slice\": 1}, \"b\": 1}", "{\"_id\": 1, \"a\": [1, 2], \"b\": 2, \"c\": 3}", "{\"_id\": 1, \"a\": [1], \"b\": 2}"),
        ("{\"a\": {\"$slice\": 1}}", "{\"_id\": 1, \"a\": 5}", "{\"_id\": 1, \"a\": 5}"),
        ("{\"a\": {\"$elemMatch\": {\"x\": 2}}}", "{\"_id\": 1, \"a\": [{\"x\": 1}, {\"x\": 2, \"y\": 1}, {\"x\": 2}], \"b\": 1}", "{\"_id\": 1, \"a\": [{\"x\": 2, \"y\": 1}], \"b\": 1}"),
        ("{\"a\": {\"$elemMatch\": {\"x\": 9}}}", "{\"_id\": 1, \"a\": [{\"x\": 1}], \"b\": 1}", "{\"_id\": 1, \"b\": 1}"),
        ("{\"length\": 1, \"md5\": 1, \"_id\": 0}", "{\"_id\": 1, \"filename\": \"f\", \"length\": 10, \"chunkSize\": 4, \"md5\": \"x\"}", "{\"length\": 10, \"md5\": \"x\"}"),
    ]

    @Test(arguments: cases)
    func projects(_ c: (String, String, String)) throws {
        let p = try Projection(J(c.0))
        let out = try p.apply(to: try J(c.1))
        let expected = try J(c.2)
        #expect(out.bytes == expected.bytes, "\(c.0) on \(c.1) gave \(out)")
    }

    static let errors: [(String, Int32)] = [
        ("{\"a\": 1, \"b\": 0}", 31254),
        ("{\"a\": 0, \"b\": 1}", 31253),
        ("{\"a\": 1, \"a.b\": 1}", 31250),
        ("{\"a.b\": 1, \"a\": 1}", 31250),
        ("{\"a\": \"x\"}", 2),
        ("{\"a\": {\"$meta\": \"textScore\"}}", 2),
        ("{\"a.b\": {\"$elemMatch\": {\"x\": 1}}}", 2),
        ("{\"a\": {\"$slice\": \"x\"}}", 2),
        ("{\"a\": {\"$slice\": [1, 0]}}", 2),
        ("{\"$a\": 1}", 2),
    ]

    @Test(arguments: errors)
    func rejects(_ c: (String, Int32)) throws {
        let doc = try J(c.0)
        let err = queryError { _ = try Projection(doc) }
        #expect(err?.code == c.1, "\(c.0): \(String(describing: err))")
    }

    @Test func mixingMessages() throws {
        let e1 = queryError { _ = try Projection(J("{\"a\": 1, \"b\": 0}")) }
        #expect(e1?.message == "Cannot do exclusion on field b in inclusion projection")
        #expect(e1?.codeName == "Location31254")
        let e2 = queryError { _ = try Projection(J("{\"a\": 0, \"b\": 1}")) }
        #expect(e2?.message == "Cannot do inclusion on field b in exclusion projection")
        #expect(try Projection(J("{\"a\": 1, \"_id\": 0}")).isInclusion)
        #expect(try !Projection(J("{\"a\": 0, \"_id\": 1}")).isInclusion)
    }
}

@Suite struct SortSpecTests {
    /// (sort, docs in input order, expected order of their `_id`s)
    static let cases: [(String, [String], [Int])] = [
        ("{\"a\": 1}", ["{\"_id\": 1, \"a\": 3}", "{\"_id\": 2, \"a\": 1}", "{\"_id\": 3, \"a\": 2}"], [2, 3, 1]),
        ("{\"a\": -1}", ["{\"_id\": 1, \"a\": 3}", "{\"_id\": 2, \"a\": 1}", "{\"_id\": 3, \"a\": 2}"], [1, 3, 2]),
        ("{\"a\": 1}", ["{\"_id\": 1, \"a\": 1}", "{\"_id\": 2}", "{\"_id\": 3, \"a\": null}", "{\"_id\": 4, \"a\": \"x\"}"], [2, 3, 1, 4]),
        ("{\"a\": 1}", ["{\"_id\": 1, \"a\": 2.5}", "{\"_id\": 2, \"a\": {\"$numberLong\": \"2\"}}", "{\"_id\": 3, \"a\": 3}"], [2, 1, 3]),
        ("{\"a\": 1}", ["{\"_id\": 1, \"a\": [5, 1]}", "{\"_id\": 2, \"a\": 2}"], [1, 2]),
        ("{\"a\": -1}", ["{\"_id\": 1, \"a\": [5, 1]}", "{\"_id\": 2, \"a\": 2}"], [1, 2]),
        ("{\"a\": -1}", ["{\"_id\": 1, \"a\": [0, 1]}", "{\"_id\": 2, \"a\": 2}"], [2, 1]),
        ("{\"a\": 1}", ["{\"_id\": 1, \"a\": []}", "{\"_id\": 2, \"a\": null}"], [1, 2]),
        ("{\"a\": 1, \"b\": -1}", ["{\"_id\": 1, \"a\": 1, \"b\": 1}", "{\"_id\": 2, \"a\": 1, \"b\": 2}", "{\"_id\": 3, \"a\": 0, \"b\": 0}"], [3, 2, 1]),
        ("{\"a.b\": 1}", ["{\"_id\": 1, \"a\": {\"b\": 2}}", "{\"_id\": 2, \"a\": [{\"b\": 3}, {\"b\": 1}]}"], [2, 1]),
        ("{\"a\": 1}", ["{\"_id\": 1, \"a\": 1}", "{\"_id\": 2, \"a\": 1.0}", "{\"_id\": 3, \"a\": 0}"], [3, 1, 2]),
        ("{\"n\": 1}", ["{\"_id\": 1, \"n\": 2}", "{\"_id\": 2, \"n\": 0}", "{\"_id\": 3, \"n\": 1}"], [2, 3, 1]),
        ("{\"s\": 1}", ["{\"_id\": 1, \"s\": \"b\"}", "{\"_id\": 2, \"s\": \"B\"}", "{\"_id\": 3, \"s\": \"a\"}"], [2, 3, 1]),
    ]

    @Test(arguments: cases)
    func sorts(_ c: (String, [String], [Int])) throws {
        let spec = try SortSpec(J(c.0))
        let docs = try c.1.map(J)
        let sorted = docs.enumerated().sorted { x, y in
            let r = spec.compare(x.element, y.element)
            return r != 0 ? r < 0 : x.offset < y.offset
        }.map { $0.element["_id"]?.intValue ?? -1 }
        #expect(sorted == c.2, "\(c.0)")
        let keyed = docs.map { spec.sortKey(for: $0) }
        for i in docs.indices {
            for j in docs.indices {
                #expect(sign(spec.compareKeys(keyed[i], keyed[j])) == sign(spec.compare(docs[i], docs[j])))
            }
        }
    }

    static let bad: [String] = ["{\"a\": 2}", "{\"a\": 0}", "{\"a\": \"x\"}", "{\"a\": {\"$meta\": \"textScore\"}}", "{\"a\": 1.5}", "{\"\": 1}"]

    @Test(arguments: bad)
    func rejects(_ s: String) throws {
        let doc = try J(s)
        let err = queryError { _ = try SortSpec(doc) }
        #expect(err != nil, "\(s)")
    }

    @Test func acceptsNumericForms() throws {
        let s = try SortSpec(J("{\"a\": 1.0, \"b\": {\"$numberLong\": \"-1\"}, \"c\": -1.0}"))
        #expect(s.keys.map(\.descending) == [false, true, true])
        #expect(try SortSpec(J("{}")).isEmpty)
        let e = queryError { _ = try SortSpec(J("{\"a\": 2}")) }
        #expect(e?.message == "$sort key ordering must be 1 (for ascending) or -1 (for descending)")
    }
}
