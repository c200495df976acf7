import BSON
import Testing
@testable import Query

@Suite struct AggregationPushdownTests {
    func pipeline(_ json: String) throws -> Pipeline { try Pipeline(stages: aggDocs(json)) }

    @Test func leadingMatchMerges() throws {
        let p = try pipeline(#"[{"%match": {"a": 1}}, {"%match": {"b": 2}}, {"%limit": 1}]"#)
        let f = try #require(p.leadingMatch)
        #expect(f.matches(try J(#"{"a": 1, "b": 2}"#)))
        #expect(!f.matches(try J(#"{"a": 1, "b": 3}"#)))
        #expect(try pipeline(#"[{"%limit": 1}, {"%match": {"a": 1}}]"#).leadingMatch == nil)
        #expect(try pipeline(#"[{"%match": {"a": 1}}]"#).leadingMatch?.document == (try J(#"{"a": 1}"#)))
    }

    /// Pipeline → (filter, has sort, skip, limit, remaining stage count).
    static let cases: [(String, String, Bool, Int, Int, Int)] = [
        (#"[]"#, "{}", false, 0, 0, 0),
        (#"[{"%match": {"a": 1}}]"#, #"{"a": 1}"#, false, 0, 0, 0),
        (#"[{"%match": {"a": 1}}, {"%sort": {"b": 1}}, {"%skip": 2}, {"%limit": 5}, {"%project": {"a": 1}}]"#, #"{"a": 1}"#, true, 2, 5, 1),
        (#"[{"%sort": {"b": 1}}, {"%match": {"a": 1}}]"#, "{}", true, 0, 0, 1),
        (#"[{"%limit": 10}, {"%skip": 3}]"#, "{}", false, 3, 7, 0),
        (#"[{"%limit": 3}, {"%skip": 3}]"#, "{}", false, 0, 3, 1),
        (#"[{"%limit": 10}, {"%limit": 4}, {"%skip": 1}, {"%skip": 1}]"#, "{}", false, 2, 2, 0),
        (#"[{"%match": {"a": 1}}, {"%skip": 1}, {"%group": {"_id": 1, "n": {"%sum": 1}}}]"#, #"{"a": 1}"#, false, 1, 0, 1),
        (#"[{"%group": {"_id": 1}}, {"%sort": {"_id": 1}}]"#, "{}", false, 0, 0, 2),
    ]

    @Test func pushdownSplits() throws {
        for (json, filter, sorted, skip, limit, remaining) in Self.cases {
            let p = try pipeline(json)
            let d = p.pushdown()
            #expect(d.filter.document == (try J(filter)), "\(json)")
            #expect((d.sort != nil) == sorted, "\(json)")
            #expect(d.skip == skip, "\(json)")
            #expect(d.limit == limit, "\(json)")
            #expect(d.remaining.count == remaining, "\(json)")
        }
    }

    /// Running the pushed query by hand and then the remainder gives what the whole pipeline gives.
    @Test func pushdownIsEquivalent() throws {
        let input = try aggDocs("[" + (0..<20).map { #"{"_id": \#($0), "a": \#($0 % 3), "b": \#(19 - $0)}"# }.joined(separator: ",") + "]")
        for (json, _, _, _, _, _) in Self.cases {
            let p = try pipeline(json)
            let d = p.pushdown()
            var docs = input.filter { d.filter.matches($0) }
            if let s = d.sort { docs = docs.enumerated().sorted { s.compare($0.element, $1.element) < 0 || (s.compare($0.element, $1.element) == 0 && $0.offset < $1.offset) }.map(\.element) }
            docs = Array(docs.dropFirst(d.skip))
            if d.limit > 0 { docs = Array(docs.prefix(d.limit)) }
            #expect(aggCanonical(try d.remaining.run(docs)) == aggCanonical(try p.run(input)), "\(json)")
        }
    }

    @Test func countOutputShapes() throws {
        let g = try pipeline(#"[{"%group": {"_id": 1, "n": {"%sum": 1}}}]"#)
        #expect(g.isCountOnly)
        #expect(g.countOutput(inputCount: 0) == [])
        #expect(aggCanonical(g.countOutput(inputCount: 7) ?? []) == aggCanonical(try aggDocs(#"[{"_id": 1, "n": 7}]"#)))
        let c = try pipeline(#"[{"%count": "total"}]"#)
        #expect(aggCanonical(c.countOutput(inputCount: 3) ?? []) == aggCanonical(try aggDocs(#"[{"total": 3}]"#)))
        let two = try pipeline(#"[{"%group": {"_id": null, "n": {"%sum": 2}, "z": {"%sum": "x"}}}]"#)
        #expect(aggCanonical(two.countOutput(inputCount: 4) ?? []) == aggCanonical(try aggDocs(#"[{"_id": null, "n": 8, "z": 0}]"#)))
        #expect(!(try pipeline(#"[{"%group": {"_id": "$a", "n": {"%sum": 1}}}]"#)).isCountOnly)
        #expect(!(try pipeline(#"[{"%group": {"_id": 1, "n": {"%sum": "$a"}}}]"#)).isCountOnly)
        #expect(!(try pipeline(#"[{"%count": "n"}, {"%limit": 1}]"#)).isCountOnly)
    }

    @Test func streamingAndSatisfied() throws {
        let p = try pipeline(#"[{"%match": {"a": 1}}, {"%limit": 2}]"#)
        #expect(p.isStreaming)
        var run = PipelineExecution(p)
        #expect(try run.push(J(#"{"a": 1}"#)).count == 1)
        #expect(try run.push(J(#"{"a": 2}"#)).isEmpty)
        #expect(!run.isSatisfied)
        #expect(try run.push(J(#"{"a": 1}"#)).count == 1)
        #expect(run.isSatisfied)
        #expect(try run.finish().isEmpty)

        let blocking = try pipeline(#"[{"%sort": {"a": 1}}, {"%limit": 1}]"#)
        #expect(!blocking.isStreaming)
        var b = PipelineExecution(blocking)
        #expect(try b.push(J(#"{"a": 2}"#)).isEmpty)
        #expect(try b.push(J(#"{"a": 1}"#)).isEmpty)
        #expect(!b.isSatisfied)
        #expect(aggCanonical(try b.finish()) == aggCanonical([try J(#"{"a": 1}"#)]))
        #expect(try b.finish().isEmpty)
    }
}
