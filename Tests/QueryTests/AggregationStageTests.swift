import BSON
import Testing
@testable import Query

/// One pipeline run: stages, input, expected output (all JSON; `%op` stands for `$op`).
struct StageCase: CustomStringConvertible, Sendable {
    let name: String
    let pipeline: String
    let input: String
    let output: String
    var description: String { name }
}

private let people = """
[{"_id": 1, "name": "ann", "age": 30, "city": "Oslo", "tags": ["a", "b"]},
 {"_id": 2, "name": "bob", "age": 25, "city": "Rome", "tags": []},
 {"_id": 3, "name": "cy", "age": 35, "city": "Oslo"},
 {"_id": 4, "name": "di", "age": 25, "city": "Rome", "tags": ["c"]}]
"""

let stageCases: [StageCase] = [
    // $match
    StageCase(name: "match equality", pipeline: #"[{"%match": {"city": "Oslo"}}]"#, input: people,
              output: #"[{"_id": 1, "name": "ann", "age": 30, "city": "Oslo", "tags": ["a", "b"]}, {"_id": 3, "name": "cy", "age": 35, "city": "Oslo"}]"#),
    StageCase(name: "match operator", pipeline: #"[{"%match": {"age": {"%gt": 30}}}, {"%project": {"_id": 1}}]"#, input: people,
              output: #"[{"_id": 3}]"#),
    StageCase(name: "two matches", pipeline: #"[{"%match": {"city": "Rome"}}, {"%match": {"_id": 4}}, {"%project": {"name": 1}}]"#, input: people,
              output: #"[{"_id": 4, "name": "di"}]"#),
    // $project
    StageCase(name: "project inclusion keeps _id and input order", pipeline: #"[{"%project": {"city": 1, "name": 1}}]"#,
              input: #"[{"_id": 1, "name": "a", "x": 1, "city": "c"}]"#, output: #"[{"_id": 1, "name": "a", "city": "c"}]"#),
    StageCase(name: "project _id 0", pipeline: #"[{"%project": {"_id": 0, "name": 1}}]"#,
              input: #"[{"_id": 1, "name": "a", "x": 1}]"#, output: #"[{"name": "a"}]"#),
    StageCase(name: "project exclusion", pipeline: #"[{"%project": {"x": 0, "y": false}}]"#,
              input: #"[{"_id": 1, "x": 1, "y": 2, "z": 3}]"#, output: #"[{"_id": 1, "z": 3}]"#),
    StageCase(name: "project only _id 0 is exclusion", pipeline: #"[{"%project": {"_id": 0}}]"#,
              input: #"[{"_id": 1, "x": 1}]"#, output: #"[{"x": 1}]"#),
    StageCase(name: "project computed", pipeline: #"[{"%project": {"n": "$name", "twice": {"%multiply": ["$age", 2]}, "k": {"%literal": 1}}}]"#,
              input: #"[{"_id": 1, "name": "a", "age": 4}]"#, output: #"[{"_id": 1, "n": "a", "twice": 8, "k": 1}]"#),
    StageCase(name: "project computed after included", pipeline: #"[{"%project": {"a": "$b", "b": 1}}]"#,
              input: #"[{"_id": 1, "a": 1, "b": 2}]"#, output: #"[{"_id": 1, "b": 2, "a": 2}]"#),
    StageCase(name: "project dotted and nested", pipeline: #"[{"%project": {"a.b": 1, "c": {"d": 1}}}]"#,
              input: #"[{"_id": 1, "a": {"b": 1, "x": 2}, "c": [{"d": 1, "e": 2}, 5], "z": 1}]"#,
              output: #"[{"_id": 1, "a": {"b": 1}, "c": [{"d": 1}]}]"#),
    StageCase(name: "project computed dotted creates document", pipeline: #"[{"%project": {"_id": 0, "a.b": "$x"}}]"#,
              input: #"[{"_id": 1, "x": 7}]"#, output: #"[{"a": {"b": 7}}]"#),
    StageCase(name: "project missing computed is left out", pipeline: #"[{"%project": {"_id": 0, "m": "$nope", "r": "$$REMOVE"}}]"#,
              input: #"[{"_id": 1}]"#, output: #"[{}]"#),
    StageCase(name: "project exclusion nested", pipeline: #"[{"%project": {"a.b": 0}}]"#,
              input: #"[{"_id": 1, "a": [{"b": 1, "c": 2}, 3]}]"#, output: #"[{"_id": 1, "a": [{"c": 2}, 3]}]"#),
    StageCase(name: "project $$ROOT", pipeline: #"[{"%project": {"_id": 0, "doc": "$$ROOT"}}]"#,
              input: #"[{"_id": 1, "x": 2}]"#, output: #"[{"doc": {"_id": 1, "x": 2}}]"#),
    // $addFields / $set / $unset
    StageCase(name: "addFields appends and replaces in place", pipeline: #"[{"%addFields": {"a": 10, "z": {"%add": ["$a", 1]}}}]"#,
              input: #"[{"_id": 1, "a": 1, "b": 2}]"#, output: #"[{"_id": 1, "a": 10, "b": 2, "z": 2}]"#),
    StageCase(name: "set nested merges", pipeline: #"[{"%set": {"s": {"t": 1}, "u.v": 2}}]"#,
              input: #"[{"_id": 1, "s": {"x": 0}, "u": 5}]"#, output: #"[{"_id": 1, "s": {"x": 0, "t": 1}, "u": {"v": 2}}]"#),
    StageCase(name: "set into array elements", pipeline: #"[{"%set": {"a.b": 1}}]"#,
              input: #"[{"_id": 1, "a": [{"c": 1}, {"c": 2}]}]"#, output: #"[{"_id": 1, "a": [{"c": 1, "b": 1}, {"c": 2, "b": 1}]}]"#),
    StageCase(name: "addFields $$REMOVE removes", pipeline: #"[{"%addFields": {"a": "$$REMOVE"}}]"#,
              input: #"[{"_id": 1, "a": 1, "b": 2}]"#, output: #"[{"_id": 1, "b": 2}]"#),
    StageCase(name: "unset string", pipeline: #"[{"%unset": "a"}]"#,
              input: #"[{"_id": 1, "a": 1, "b": 2}]"#, output: #"[{"_id": 1, "b": 2}]"#),
    StageCase(name: "unset array with dotted", pipeline: #"[{"%unset": ["a", "b.c", "_id"]}]"#,
              input: #"[{"_id": 1, "a": 1, "b": {"c": 1, "d": 2}}]"#, output: #"[{"b": {"d": 2}}]"#),
    // $sort / $skip / $limit
    StageCase(name: "sort ascending stable", pipeline: #"[{"%sort": {"age": 1}}, {"%project": {"_id": 1}}]"#, input: people,
              output: #"[{"_id": 2}, {"_id": 4}, {"_id": 1}, {"_id": 3}]"#),
    StageCase(name: "sort descending two keys", pipeline: #"[{"%sort": {"city": -1, "age": -1}}, {"%project": {"_id": 1}}]"#, input: people,
              output: #"[{"_id": 2}, {"_id": 4}, {"_id": 3}, {"_id": 1}]"#),
    StageCase(name: "sort missing first", pipeline: #"[{"%sort": {"x": 1}}]"#,
              input: #"[{"_id": 1, "x": 2}, {"_id": 2}, {"_id": 3, "x": null}]"#, output: #"[{"_id": 2}, {"_id": 3, "x": null}, {"_id": 1, "x": 2}]"#),
    StageCase(name: "skip", pipeline: #"[{"%skip": 3}, {"%project": {"_id": 1}}]"#, input: people, output: #"[{"_id": 4}]"#),
    StageCase(name: "skip past end", pipeline: #"[{"%skip": 10}]"#, input: people, output: "[]"),
    StageCase(name: "limit", pipeline: #"[{"%limit": 2}, {"%project": {"_id": 1}}]"#, input: people, output: #"[{"_id": 1}, {"_id": 2}]"#),
    StageCase(name: "skip limit sort", pipeline: #"[{"%sort": {"_id": -1}}, {"%skip": 1}, {"%limit": 2}, {"%project": {"_id": 1}}]"#,
              input: people, output: #"[{"_id": 3}, {"_id": 2}]"#),
    // $group
    StageCase(name: "group count_documents shape", pipeline: #"[{"%match": {"city": "Oslo"}}, {"%group": {"_id": 1, "n": {"%sum": 1}}}]"#,
              input: people, output: #"[{"_id": 1, "n": 2}]"#),
    StageCase(name: "group on empty input gives nothing", pipeline: #"[{"%group": {"_id": null, "n": {"%sum": 1}}}]"#, input: "[]", output: "[]"),
    StageCase(name: "group by field, first-seen order", pipeline: #"[{"%group": {"_id": "$city", "n": {"%sum": 1}, "total": {"%sum": "$age"}}}]"#,
              input: people, output: #"[{"_id": "Oslo", "n": 2, "total": 65}, {"_id": "Rome", "n": 2, "total": 50}]"#),
    StageCase(name: "group null id", pipeline: #"[{"%group": {"_id": null, "avg": {"%avg": "$age"}, "min": {"%min": "$age"}, "max": {"%max": "$name"}}}]"#,
              input: people, output: #"[{"_id": null, "avg": 28.75, "min": 25, "max": "di"}]"#),
    StageCase(name: "group missing key groups with null", pipeline: #"[{"%group": {"_id": "$k", "n": {"%sum": 1}}}]"#,
              input: #"[{"k": null}, {}, {"k": 1}, {"k": 1.0}]"#, output: #"[{"_id": null, "n": 2}, {"_id": 1, "n": 2}]"#),
    StageCase(name: "group document id", pipeline: #"[{"%group": {"_id": {"c": "$city", "a": "$age"}, "ids": {"%push": "$_id"}}}, {"%sort": {"_id.c": 1, "_id.a": 1}}]"#,
              input: people, output: #"[{"_id": {"c": "Oslo", "a": 30}, "ids": [1]}, {"_id": {"c": "Oslo", "a": 35}, "ids": [3]}, {"_id": {"c": "Rome", "a": 25}, "ids": [2, 4]}]"#),
    StageCase(name: "group first last", pipeline: #"[{"%group": {"_id": "$city", "f": {"%first": "$name"}, "l": {"%last": "$name"}, "lt": {"%last": "$tags"}}}]"#,
              input: people, output: #"[{"_id": "Oslo", "f": "ann", "l": "cy", "lt": null}, {"_id": "Rome", "f": "bob", "l": "di", "lt": ["c"]}]"#),
    StageCase(name: "group push skips missing, addToSet dedups", pipeline: #"[{"%group": {"_id": null, "p": {"%push": "$x"}, "s": {"%addToSet": "$x"}}}]"#,
              input: #"[{"x": 1}, {}, {"x": 1.0}, {"x": "a"}, {"x": 1}]"#, output: #"[{"_id": null, "p": [1, 1.0, "a", 1], "s": [1, "a"]}]"#),
    StageCase(name: "group $count accumulator", pipeline: #"[{"%group": {"_id": "$city", "c": {"%count": {}}}}]"#,
              input: people, output: #"[{"_id": "Oslo", "c": 2}, {"_id": "Rome", "c": 2}]"#),
    StageCase(name: "group min max ignore null and missing", pipeline: #"[{"%group": {"_id": 0, "mn": {"%min": "$x"}, "mx": {"%max": "$x"}, "none": {"%min": "$y"}}}]"#,
              input: #"[{"x": null}, {"x": 5}, {}, {"x": 2}]"#, output: #"[{"_id": 0, "mn": 2, "mx": 5, "none": null}]"#),
    StageCase(name: "group avg of no numbers is null", pipeline: #"[{"%group": {"_id": 0, "a": {"%avg": "$x"}}}]"#,
              input: #"[{"x": "s"}, {}]"#, output: #"[{"_id": 0, "a": null}]"#),
    StageCase(name: "group expression id", pipeline: #"[{"%group": {"_id": {"%gt": ["$age", 28]}, "n": {"%sum": 1}}}]"#,
              input: people, output: #"[{"_id": true, "n": 2}, {"_id": false, "n": 2}]"#),
    // $sum promotion
    StageCase(name: "sum ignores non-numbers", pipeline: #"[{"%group": {"_id": 0, "s": {"%sum": "$x"}}}]"#,
              input: #"[{"x": 1}, {"x": "2"}, {"x": [3]}, {"x": null}, {}]"#, output: #"[{"_id": 0, "s": 1}]"#),
    StageCase(name: "sum of nothing is int 0", pipeline: #"[{"%group": {"_id": 0, "s": {"%sum": "$x"}}}]"#,
              input: #"[{}]"#, output: #"[{"_id": 0, "s": 0}]"#),
    StageCase(name: "sum int32 overflow promotes to long", pipeline: #"[{"%group": {"_id": 0, "s": {"%sum": "$x"}}}]"#,
              input: #"[{"x": 2147483647}, {"x": 1}]"#, output: #"[{"_id": 0, "s": {"$numberLong": "2147483648"}}]"#),
    StageCase(name: "sum with long stays long", pipeline: #"[{"%group": {"_id": 0, "s": {"%sum": "$x"}}}]"#,
              input: #"[{"x": 1}, {"x": {"$numberLong": "2"}}]"#, output: #"[{"_id": 0, "s": {"$numberLong": "3"}}]"#),
    StageCase(name: "sum mixing double gives double", pipeline: #"[{"%group": {"_id": 0, "s": {"%sum": "$x"}}}]"#,
              input: #"[{"x": 1}, {"x": 1.5}, {"x": {"$numberLong": "2"}}]"#, output: #"[{"_id": 0, "s": 4.5}]"#),
    StageCase(name: "sum long overflow gives double", pipeline: #"[{"%group": {"_id": 0, "s": {"%sum": "$x"}}}]"#,
              input: #"[{"x": {"$numberLong": "9223372036854775807"}}, {"x": 1}]"#, output: #"[{"_id": 0, "s": 9.223372036854775808e18}]"#),
    // $count
    StageCase(name: "count", pipeline: #"[{"%match": {"age": 25}}, {"%count": "n"}]"#, input: people, output: #"[{"n": 2}]"#),
    StageCase(name: "count of nothing is nothing", pipeline: #"[{"%count": "n"}]"#, input: "[]", output: "[]"),
    // $unwind
    StageCase(name: "unwind string form", pipeline: #"[{"%unwind": "$tags"}, {"%project": {"tags": 1}}]"#, input: people,
              output: #"[{"_id": 1, "tags": "a"}, {"_id": 1, "tags": "b"}, {"_id": 4, "tags": "c"}]"#),
    StageCase(name: "unwind preserve and index", pipeline: #"[{"%unwind": {"path": "$tags", "includeArrayIndex": "i", "preserveNullAndEmptyArrays": true}}, {"%project": {"tags": 1, "i": 1}}]"#,
              input: people,
              output: #"[{"_id": 1, "tags": "a", "i": {"$numberLong": "0"}}, {"_id": 1, "tags": "b", "i": {"$numberLong": "1"}}, {"_id": 2, "i": null}, {"_id": 3, "i": null}, {"_id": 4, "tags": "c", "i": {"$numberLong": "0"}}]"#),
    StageCase(name: "unwind scalar passes through", pipeline: #"[{"%unwind": "$a"}]"#,
              input: #"[{"_id": 1, "a": 5}, {"_id": 2, "a": null}]"#, output: #"[{"_id": 1, "a": 5}]"#),
    StageCase(name: "unwind dotted", pipeline: #"[{"%unwind": "$a.b"}]"#,
              input: #"[{"_id": 1, "a": {"b": [1, 2], "c": 0}}]"#, output: #"[{"_id": 1, "a": {"b": 1, "c": 0}}, {"_id": 1, "a": {"b": 2, "c": 0}}]"#),
    StageCase(name: "unwind then group", pipeline: #"[{"%unwind": "$tags"}, {"%group": {"_id": "$tags", "n": {"%sum": 1}}}, {"%sort": {"_id": -1}}]"#,
              input: people, output: #"[{"_id": "c", "n": 1}, {"_id": "b", "n": 1}, {"_id": "a", "n": 1}]"#),
    // $replaceRoot / $replaceWith
    StageCase(name: "replaceRoot", pipeline: #"[{"%replaceRoot": {"newRoot": "$a"}}]"#,
              input: #"[{"_id": 1, "a": {"x": 1}}]"#, output: #"[{"x": 1}]"#),
    StageCase(name: "replaceWith object expression", pipeline: #"[{"%replaceWith": {"id": "$_id", "n": {"%size": "$t"}}}]"#,
              input: #"[{"_id": 1, "t": [1, 2]}]"#, output: #"[{"id": 1, "n": 2}]"#),
    // Empty pipeline
    StageCase(name: "empty pipeline passes through", pipeline: "[]", input: #"[{"_id": 1}]"#, output: #"[{"_id": 1}]"#),
]

@Suite struct AggregationStageTests {
    @Test(arguments: stageCases)
    func stage(_ c: StageCase) throws {
        let input = try aggDocs(c.input)
        let expected = try aggDocs(c.output)
        #expect(c.input == "[]" || !input.isEmpty, "input must parse")
        #expect(c.output == "[]" || !expected.isEmpty, "output must parse")
        let got = try aggRun(c.pipeline, c.input)
        #expect(aggCanonical(got) == aggCanonical(expected), "\(c.name): \(got)")
    }
}
