import BSON
import Testing
@testable import Query

/// A pipeline (JSON) and the error code it must fail with, at parse time or when run over `input`.
struct ErrorCase: CustomStringConvertible, Sendable {
    let pipeline: String
    let code: Int32
    var input: String = #"[{"_id": 1, "a": "s", "arr": [1]}]"#
    var description: String { pipeline }
}

let errorCases: [ErrorCase] = [
    // Pipeline shape
    ErrorCase(pipeline: #"[{"%foo": 1}]"#, code: 40324),
    ErrorCase(pipeline: #"[{"%match": {}, "%limit": 1}]"#, code: 40323),
    ErrorCase(pipeline: #"[{}]"#, code: 40323),
    ErrorCase(pipeline: #"[{"%lookup": {}}]"#, code: 238),
    ErrorCase(pipeline: #"[{"%out": "x"}]"#, code: 238),
    ErrorCase(pipeline: #"[{"%merge": "x"}]"#, code: 238),
    ErrorCase(pipeline: #"[{"%facet": {}}]"#, code: 238),
    // Expressions
    ErrorCase(pipeline: #"[{"%project": {"x": {"%foo": 1}}}]"#, code: 168),
    ErrorCase(pipeline: #"[{"%project": {"x": {"%add": 1, "%sub": 2}}}]"#, code: 15983),
    ErrorCase(pipeline: #"[{"%project": {"x": {"%eq": [1]}}}]"#, code: 16020),
    ErrorCase(pipeline: #"[{"%project": {"x": {"%cond": [1, 2]}}}]"#, code: 16020),
    ErrorCase(pipeline: #"[{"%project": {"x": {"%cond": {"then": 1, "else": 2}}}}]"#, code: 17080),
    ErrorCase(pipeline: #"[{"%project": {"x": {"%cond": {"if": 1, "then": 1, "else": 2, "z": 0}}}}]"#, code: 17083),
    ErrorCase(pipeline: #"[{"%project": {"x": {"%ifNull": ["$a"]}}}]"#, code: 1257300),
    ErrorCase(pipeline: #"[{"%project": {"x": "$$nope"}}]"#, code: 17276),
    ErrorCase(pipeline: #"[{"%project": {"x": "$"}}]"#, code: 16872),
    ErrorCase(pipeline: #"[{"%project": {"x": "$a..b"}}]"#, code: 15998),
    ErrorCase(pipeline: #"[{"%project": {"x": {"%add": [1, "$a"]}}}]"#, code: 16554),
    ErrorCase(pipeline: #"[{"%project": {"x": {"%add": ["$d", "$d"]}}}]"#, code: 16612, input: #"[{"d": {"$date": {"$numberLong": "1"}}}]"#),
    ErrorCase(pipeline: #"[{"%project": {"x": {"%subtract": [1, "$a"]}}}]"#, code: 16556),
    ErrorCase(pipeline: #"[{"%project": {"x": {"%multiply": [1, "$a"]}}}]"#, code: 16555),
    ErrorCase(pipeline: #"[{"%project": {"x": {"%divide": [1, 0]}}}]"#, code: 16608),
    ErrorCase(pipeline: #"[{"%project": {"x": {"%divide": ["$a", 1]}}}]"#, code: 16609),
    ErrorCase(pipeline: #"[{"%project": {"x": {"%concat": ["a", 1]}}}]"#, code: 16702),
    ErrorCase(pipeline: #"[{"%project": {"x": {"%toLower": "$arr"}}}]"#, code: 16007),
    ErrorCase(pipeline: #"[{"%project": {"x": {"%size": "$a"}}}]"#, code: 17124),
    ErrorCase(pipeline: #"[{"%project": {"x": {"%size": "$missing"}}}]"#, code: 17124),
    ErrorCase(pipeline: #"[{"%project": {"x": {"%arrayElemAt": ["$a", 0]}}}]"#, code: 28689),
    ErrorCase(pipeline: #"[{"%project": {"x": {"%arrayElemAt": ["$arr", "x"]}}}]"#, code: 28690),
    ErrorCase(pipeline: #"[{"%project": {"x": {"%arrayElemAt": ["$arr", 1.5]}}}]"#, code: 28691),
    // $project / $unset
    ErrorCase(pipeline: #"[{"%project": {}}]"#, code: 51272),
    ErrorCase(pipeline: #"[{"%project": {"a": 1, "b": 0}}]"#, code: 31254),
    ErrorCase(pipeline: #"[{"%project": {"a": 0, "b": 1}}]"#, code: 31253),
    ErrorCase(pipeline: #"[{"%project": {"a": 0, "b": "$x"}}]"#, code: 31252),
    ErrorCase(pipeline: #"[{"%project": {"a": 1, "a.b": 1}}]"#, code: 31250),
    ErrorCase(pipeline: #"[{"%project": {"a": {}}}]"#, code: 51270),
    ErrorCase(pipeline: #"[{"%project": 1}]"#, code: 15969),
    ErrorCase(pipeline: #"[{"%unset": []}]"#, code: 31119),
    ErrorCase(pipeline: #"[{"%unset": [1]}]"#, code: 31120),
    ErrorCase(pipeline: #"[{"%addFields": 1}]"#, code: 40272),
    // $match / $sort / $skip / $limit
    ErrorCase(pipeline: #"[{"%match": 1}]"#, code: 15959),
    ErrorCase(pipeline: #"[{"%match": {"a": {"%bogus": 1}}}]"#, code: 2),
    ErrorCase(pipeline: #"[{"%sort": {}}]"#, code: 15976),
    ErrorCase(pipeline: #"[{"%sort": 1}]"#, code: 15973),
    ErrorCase(pipeline: #"[{"%sort": {"a": 2}}]"#, code: 15975),
    ErrorCase(pipeline: #"[{"%skip": -1}]"#, code: 5107200),
    ErrorCase(pipeline: #"[{"%skip": "x"}]"#, code: 5107200),
    ErrorCase(pipeline: #"[{"%limit": 0}]"#, code: 15958),
    ErrorCase(pipeline: #"[{"%limit": "x"}]"#, code: 15957),
    // $group
    ErrorCase(pipeline: #"[{"%group": {"n": {"%sum": 1}}}]"#, code: 15955),
    ErrorCase(pipeline: #"[{"%group": 1}]"#, code: 15947),
    ErrorCase(pipeline: #"[{"%group": {"_id": null, "n": 1}}]"#, code: 40234),
    ErrorCase(pipeline: #"[{"%group": {"_id": null, "n": {"%sum": 1, "%avg": 1}}}]"#, code: 40238),
    ErrorCase(pipeline: #"[{"%group": {"_id": null, "n": {"%median": 1}}}]"#, code: 15952),
    ErrorCase(pipeline: #"[{"%group": {"_id": null, "a.b": {"%sum": 1}}}]"#, code: 40235),
    ErrorCase(pipeline: #"[{"%group": {"_id": null, "n": {"%sum": [1, 2]}}}]"#, code: 40237),
    ErrorCase(pipeline: #"[{"%group": {"_id": null, "n": {"%count": 1}}}]"#, code: 40240),
    // $count
    ErrorCase(pipeline: #"[{"%count": ""}]"#, code: 40157),
    ErrorCase(pipeline: #"[{"%count": 1}]"#, code: 40156),
    ErrorCase(pipeline: #"[{"%count": "$n"}]"#, code: 40158),
    ErrorCase(pipeline: #"[{"%count": "a.b"}]"#, code: 40160),
    // $unwind
    ErrorCase(pipeline: #"[{"%unwind": "a"}]"#, code: 28818),
    ErrorCase(pipeline: #"[{"%unwind": 1}]"#, code: 15981),
    ErrorCase(pipeline: #"[{"%unwind": {}}]"#, code: 28812),
    ErrorCase(pipeline: #"[{"%unwind": {"path": "$a", "foo": 1}}]"#, code: 28811),
    ErrorCase(pipeline: #"[{"%unwind": {"path": "$a", "preserveNullAndEmptyArrays": 1}}]"#, code: 28809),
    ErrorCase(pipeline: #"[{"%unwind": {"path": "$a", "includeArrayIndex": "$i"}}]"#, code: 28822),
    // $replaceRoot
    ErrorCase(pipeline: #"[{"%replaceRoot": {}}]"#, code: 40231),
    ErrorCase(pipeline: #"[{"%replaceRoot": {"newRoot": "$a"}}]"#, code: 40228),
    ErrorCase(pipeline: #"[{"%replaceWith": "$missing"}]"#, code: 40228),
]

@Suite struct AggregationErrorTests {
    @Test(arguments: errorCases)
    func error(_ c: ErrorCase) {
        let e = queryError { _ = try aggRun(c.pipeline, c.input) }
        #expect(e?.code == c.code, "\(e.map { "\($0)" } ?? "no error")")
    }

    @Test func messages() {
        #expect(queryError { _ = try aggRun(#"[{"%foo": 1}]"#, "[]") }?.message == "Unrecognized pipeline stage name: '$foo'")
        let op = queryError { _ = try aggRun(#"[{"%project": {"x": {"%foo": 1}}}]"#, "[]") }
        #expect(op?.message == "Unrecognized expression '$foo'")
        #expect(op?.codeName == "InvalidPipelineOperator")
        #expect(queryError { _ = try aggRun(#"[{"%out": "x"}]"#, "[]") }?.codeName == "NotImplemented")
    }

    @Test func groupMemoryLimit() {
        let input = "[" + (0..<50).map { #"{"k": \#($0), "s": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"# }.joined(separator: ",") + "]"
        let e = queryError { _ = try aggRun(#"[{"%group": {"_id": "$k", "all": {"%push": "$$ROOT"}}}]"#, input, memoryLimit: 2000) }
        #expect(e?.code == 292)
        #expect(e?.codeName == "QueryExceededMemoryLimitNoDiskUseAllowed")
        #expect(queryError { _ = try aggRun(#"[{"%group": {"_id": "$k"}}]"#, input) } == nil)
    }

    @Test func sortMemoryLimit() {
        let input = "[" + (0..<50).map { #"{"k": \#($0), "s": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"# }.joined(separator: ",") + "]"
        #expect(queryError { _ = try aggRun(#"[{"%sort": {"k": -1}}]"#, input, memoryLimit: 2000) }?.code == 292)
        #expect(queryError { _ = try aggRun(#"[{"%sort": {"k": -1}}]"#, input, memoryLimit: 100_000) } == nil)
    }
}
