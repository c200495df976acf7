import BSON
import Testing
@testable import Query

@Suite struct UpdateSpecTests {
    /// (update, source, expected result, modified) — results compared bytewise (order matters).
    static let cases: [(String, String, String, Bool)] = [
        // past the end of an array: nothing to unset; $inc/$max pad with null as mongod (FuzzQuery)
        ("{\"$unset\": {\"a.5\": 1}}", "{\"_id\": 1, \"a\": [1]}", "{\"_id\": 1, \"a\": [1]}", false),
        ("{\"$inc\": {\"a.3\": 2}}", "{\"_id\": 1, \"a\": [1]}", "{\"_id\": 1, \"a\": [1, null, null, 2]}", true),
        ("{\"$max\": {\"a.1\": 7}}", "{\"_id\": 1, \"a\": [1]}", "{\"_id\": 1, \"a\": [1, 7]}", true),
        ("{\"$unset\": {\"a.0\": 1}}", "{\"_id\": 1, \"a\": [1, 2]}", "{\"_id\": 1, \"a\": [null, 2]}", true),
        // replacement
        ("{\"x\": 1}", "{\"_id\": 1, \"a\": 2}", "{\"_id\": 1, \"x\": 1}", true),
        ("{\"x\": 1, \"_id\": 1}", "{\"_id\": 1, \"a\": 2}", "{\"_id\": 1, \"x\": 1}", true),
        ("{}", "{\"_id\": 1, \"a\": 2}", "{\"_id\": 1}", true),
        ("{\"a\": 2}", "{\"_id\": 1, \"a\": 2}", "{\"_id\": 1, \"a\": 2}", false),
        // $set
        ("{\"$set\": {\"a\": 5}}", "{\"_id\": 1, \"a\": 2, \"b\": 3}", "{\"_id\": 1, \"a\": 5, \"b\": 3}", true),
        ("{\"$set\": {\"c\": 5}}", "{\"_id\": 1, \"a\": 2}", "{\"_id\": 1, \"a\": 2, \"c\": 5}", true),
        ("{\"$set\": {\"a\": 2}}", "{\"_id\": 1, \"a\": 2}", "{\"_id\": 1, \"a\": 2}", false),
        ("{\"$set\": {\"a\": 2.0}}", "{\"_id\": 1, \"a\": 2}", "{\"_id\": 1, \"a\": 2.0}", true),
        ("{\"$set\": {\"a.b.c\": 1}}", "{\"_id\": 1}", "{\"_id\": 1, \"a\": {\"b\": {\"c\": 1}}}", true),
        ("{\"$set\": {\"a.b\": 1}}", "{\"_id\": 1, \"a\": {\"x\": 0}}", "{\"_id\": 1, \"a\": {\"x\": 0, \"b\": 1}}", true),
        ("{\"$set\": {\"a.1\": 9}}", "{\"_id\": 1, \"a\": [1, 2, 3]}", "{\"_id\": 1, \"a\": [1, 9, 3]}", true),
        ("{\"$set\": {\"a.4\": 9}}", "{\"_id\": 1, \"a\": [1]}", "{\"_id\": 1, \"a\": [1, null, null, null, 9]}", true),
        ("{\"$set\": {\"a.0.b\": 9}}", "{\"_id\": 1, \"a\": [{\"b\": 1}]}", "{\"_id\": 1, \"a\": [{\"b\": 9}]}", true),
        ("{\"$set\": {\"a\": {\"x\": [1]}}}", "{\"_id\": 1}", "{\"_id\": 1, \"a\": {\"x\": [1]}}", true),
        ("{\"$set\": {\"_id\": 1}}", "{\"_id\": 1}", "{\"_id\": 1}", false),
        ("{\"$set\": {\"b\": 1, \"a\": 1}}", "{\"_id\": 1}", "{\"_id\": 1, \"a\": 1, \"b\": 1}", true),
        ("{\"$set\": {\"x.10\": 1, \"x.2\": 1}}", "{\"_id\": 1}", "{\"_id\": 1, \"x\": {\"2\": 1, \"10\": 1}}", true),
        ("{\"$inc\": {\"z\": 1}, \"$set\": {\"B\": 1, \"a\": 1}}", "{\"_id\": 1}", "{\"_id\": 1, \"B\": 1, \"a\": 1, \"z\": 1}", true),
        ("{\"$set\": {}}", "{\"_id\": 1}", "{\"_id\": 1}", false),
        // $unset
        ("{\"$unset\": {\"a\": \"\"}}", "{\"_id\": 1, \"a\": 2, \"b\": 3}", "{\"_id\": 1, \"b\": 3}", true),
        ("{\"$unset\": {\"z\": 1}}", "{\"_id\": 1, \"a\": 2}", "{\"_id\": 1, \"a\": 2}", false),
        ("{\"$unset\": {\"a.b\": 1}}", "{\"_id\": 1, \"a\": {\"b\": 1, \"c\": 2}}", "{\"_id\": 1, \"a\": {\"c\": 2}}", true),
        ("{\"$unset\": {\"a.b\": 1}}", "{\"_id\": 1, \"a\": 5}", "{\"_id\": 1, \"a\": 5}", false),
        ("{\"$unset\": {\"a.1\": 1}}", "{\"_id\": 1, \"a\": [1, 2, 3]}", "{\"_id\": 1, \"a\": [1, null, 3]}", true),
        ("{\"$unset\": {\"x.y\": 1}}", "{\"_id\": 1}", "{\"_id\": 1}", false),
        // $inc / $mul with promotion
        ("{\"$inc\": {\"a\": 1}}", "{\"_id\": 1, \"a\": 1}", "{\"_id\": 1, \"a\": 2}", true),
        ("{\"$inc\": {\"a\": 1}}", "{\"_id\": 1}", "{\"_id\": 1, \"a\": 1}", true),
        ("{\"$inc\": {\"a\": 0}}", "{\"_id\": 1, \"a\": 5}", "{\"_id\": 1, \"a\": 5}", false),
        ("{\"$inc\": {\"a\": 1.5}}", "{\"_id\": 1, \"a\": 1}", "{\"_id\": 1, \"a\": 2.5}", true),
        ("{\"$inc\": {\"a\": 1}}", "{\"_id\": 1, \"a\": 2147483647}", "{\"_id\": 1, \"a\": {\"$numberLong\": \"2147483648\"}}", true),
        ("{\"$inc\": {\"a\": {\"$numberLong\": \"1\"}}}", "{\"_id\": 1, \"a\": 1}", "{\"_id\": 1, \"a\": {\"$numberLong\": \"2\"}}", true),
        ("{\"$inc\": {\"a.b\": 2}}", "{\"_id\": 1}", "{\"_id\": 1, \"a\": {\"b\": 2}}", true),
        ("{\"$inc\": {\"a\": -3}}", "{\"_id\": 1, \"a\": 1.5}", "{\"_id\": 1, \"a\": -1.5}", true),
        ("{\"$mul\": {\"a\": 2}}", "{\"_id\": 1, \"a\": 3}", "{\"_id\": 1, \"a\": 6}", true),
        ("{\"$mul\": {\"a\": 2}}", "{\"_id\": 1}", "{\"_id\": 1, \"a\": 0}", true),
        ("{\"$mul\": {\"a\": 2.0}}", "{\"_id\": 1}", "{\"_id\": 1, \"a\": 0.0}", true),
        ("{\"$mul\": {\"a\": 65536}}", "{\"_id\": 1, \"a\": 65536}", "{\"_id\": 1, \"a\": {\"$numberLong\": \"4294967296\"}}", true),
        ("{\"$mul\": {\"a\": 0.5}}", "{\"_id\": 1, \"a\": 3}", "{\"_id\": 1, \"a\": 1.5}", true),
        // $min / $max
        ("{\"$min\": {\"a\": 1}}", "{\"_id\": 1, \"a\": 5}", "{\"_id\": 1, \"a\": 1}", true),
        ("{\"$min\": {\"a\": 9}}", "{\"_id\": 1, \"a\": 5}", "{\"_id\": 1, \"a\": 5}", false),
        ("{\"$max\": {\"a\": 9}}", "{\"_id\": 1, \"a\": 5}", "{\"_id\": 1, \"a\": 9}", true),
        ("{\"$max\": {\"a\": 9}}", "{\"_id\": 1}", "{\"_id\": 1, \"a\": 9}", true),
        ("{\"$max\": {\"a\": \"x\"}}", "{\"_id\": 1, \"a\": 5}", "{\"_id\": 1, \"a\": \"x\"}", true),
        ("{\"$min\": {\"a\": null}}", "{\"_id\": 1, \"a\": 5}", "{\"_id\": 1, \"a\": null}", true),
        // $rename
        ("{\"$rename\": {\"a\": \"z\"}}", "{\"_id\": 1, \"a\": 1, \"b\": 2}", "{\"_id\": 1, \"b\": 2, \"z\": 1}", true),
        ("{\"$rename\": {\"a\": \"b\"}}", "{\"_id\": 1, \"a\": 1, \"b\": 2}", "{\"_id\": 1, \"b\": 1}", true),
        ("{\"$rename\": {\"q\": \"z\"}}", "{\"_id\": 1, \"a\": 1}", "{\"_id\": 1, \"a\": 1}", false),
        ("{\"$rename\": {\"a.b\": \"c\"}}", "{\"_id\": 1, \"a\": {\"b\": 1, \"x\": 2}}", "{\"_id\": 1, \"a\": {\"x\": 2}, \"c\": 1}", true),
        ("{\"$rename\": {\"a\": \"c.d\"}}", "{\"_id\": 1, \"a\": 1}", "{\"_id\": 1, \"c\": {\"d\": 1}}", true),
        // $setOnInsert is skipped when not inserting
        ("{\"$setOnInsert\": {\"a\": 1}}", "{\"_id\": 1}", "{\"_id\": 1}", false),
        // $push
        ("{\"$push\": {\"a\": 3}}", "{\"_id\": 1, \"a\": [1, 2]}", "{\"_id\": 1, \"a\": [1, 2, 3]}", true),
        ("{\"$push\": {\"a\": 3}}", "{\"_id\": 1}", "{\"_id\": 1, \"a\": [3]}", true),
        ("{\"$push\": {\"a\": [3]}}", "{\"_id\": 1, \"a\": []}", "{\"_id\": 1, \"a\": [[3]]}", true),
        ("{\"$push\": {\"a\": {\"$each\": [3, 4]}}}", "{\"_id\": 1, \"a\": [1]}", "{\"_id\": 1, \"a\": [1, 3, 4]}", true),
        ("{\"$push\": {\"a\": {\"$each\": [3, 4], \"$position\": 0}}}", "{\"_id\": 1, \"a\": [1]}", "{\"_id\": 1, \"a\": [3, 4, 1]}", true),
        ("{\"$push\": {\"a\": {\"$each\": [3], \"$position\": -1}}}", "{\"_id\": 1, \"a\": [1, 2]}", "{\"_id\": 1, \"a\": [1, 3, 2]}", true),
        ("{\"$push\": {\"a\": {\"$each\": [5, 0], \"$sort\": 1}}}", "{\"_id\": 1, \"a\": [3]}", "{\"_id\": 1, \"a\": [0, 3, 5]}", true),
        ("{\"$push\": {\"a\": {\"$each\": [5, 0], \"$sort\": -1, \"$slice\": 2}}}", "{\"_id\": 1, \"a\": [3]}", "{\"_id\": 1, \"a\": [5, 3]}", true),
        ("{\"$push\": {\"a\": {\"$each\": [4], \"$slice\": -2}}}", "{\"_id\": 1, \"a\": [1, 2, 3]}", "{\"_id\": 1, \"a\": [3, 4]}", true),
        ("{\"$push\": {\"a\": {\"$each\": [{\"s\": 2}], \"$sort\": {\"s\": 1}}}}", "{\"_id\": 1, \"a\": [{\"s\": 3}, {\"s\": 1}]}", "{\"_id\": 1, \"a\": [{\"s\": 1}, {\"s\": 2}, {\"s\": 3}]}", true),
        ("{\"$push\": {\"a.b\": 1}}", "{\"_id\": 1}", "{\"_id\": 1, \"a\": {\"b\": [1]}}", true),
        // $addToSet
        ("{\"$addToSet\": {\"a\": 2}}", "{\"_id\": 1, \"a\": [1, 2]}", "{\"_id\": 1, \"a\": [1, 2]}", false),
        ("{\"$addToSet\": {\"a\": 3}}", "{\"_id\": 1, \"a\": [1, 2]}", "{\"_id\": 1, \"a\": [1, 2, 3]}", true),
        ("{\"$addToSet\": {\"a\": 2.0}}", "{\"_id\": 1, \"a\": [1, 2]}", "{\"_id\": 1, \"a\": [1, 2]}", false),
        ("{\"$addToSet\": {\"a\": {\"$each\": [2, 3, 3]}}}", "{\"_id\": 1, \"a\": [1, 2]}", "{\"_id\": 1, \"a\": [1, 2, 3]}", true),
        ("{\"$addToSet\": {\"a\": 1}}", "{\"_id\": 1}", "{\"_id\": 1, \"a\": [1]}", true),
        ("{\"$addToSet\": {\"a\": {\"$each\": []}}}", "{\"_id\": 1}", "{\"_id\": 1, \"a\": []}", true),
        // $pull / $pullAll / $pop
        ("{\"$pull\": {\"a\": 2}}", "{\"_id\": 1, \"a\": [1, 2, 3, 2]}", "{\"_id\": 1, \"a\": [1, 3]}", true),
        ("{\"$pull\": {\"a\": 9}}", "{\"_id\": 1, \"a\": [1]}", "{\"_id\": 1, \"a\": [1]}", false),
        ("{\"$pull\": {\"a\": {\"$gte\": 2}}}", "{\"_id\": 1, \"a\": [1, 2, 3]}", "{\"_id\": 1, \"a\": [1]}", true),
        ("{\"$pull\": {\"a\": {\"$in\": [1, 3]}}}", "{\"_id\": 1, \"a\": [1, 2, 3]}", "{\"_id\": 1, \"a\": [2]}", true),
        ("{\"$pull\": {\"a\": {\"x\": 1}}}", "{\"_id\": 1, \"a\": [{\"x\": 1, \"y\": 2}, {\"x\": 2}, 1]}", "{\"_id\": 1, \"a\": [{\"x\": 2}, 1]}", true),
        ("{\"$pull\": {\"a\": {\"$regularExpression\": {\"pattern\": \"^a\", \"options\": \"\"}}}}", "{\"_id\": 1, \"a\": [\"ab\", \"ba\"]}", "{\"_id\": 1, \"a\": [\"ba\"]}", true),
        ("{\"$pull\": {\"a\": 1}}", "{\"_id\": 1}", "{\"_id\": 1}", false),
        ("{\"$pullAll\": {\"a\": [1, 3]}}", "{\"_id\": 1, \"a\": [1, 2, 3, 1]}", "{\"_id\": 1, \"a\": [2]}", true),
        ("{\"$pop\": {\"a\": 1}}", "{\"_id\": 1, \"a\": [1, 2, 3]}", "{\"_id\": 1, \"a\": [1, 2]}", true),
        ("{\"$pop\": {\"a\": -1}}", "{\"_id\": 1, \"a\": [1, 2, 3]}", "{\"_id\": 1, \"a\": [2, 3]}", true),
        ("{\"$pop\": {\"a\": 1}}", "{\"_id\": 1, \"a\": []}", "{\"_id\": 1, \"a\": []}", false),
        // several operators
        ("{\"$set\": {\"a\": 1}, \"$inc\": {\"n\": 1}, \"$unset\": {\"z\": 1}}", "{\"_id\": 1, \"z\": 0, \"n\": 1}", "{\"_id\": 1, \"n\": 2, \"a\": 1}", true),
    ]

    @Test(arguments: cases)
    func applies(_ c: (String, String, String, Bool)) throws {
        let spec = try UpdateSpec(J(c.0))
        let (doc, modified) = try spec.apply(to: try J(c.1), isUpsertInsert: false)
        let expected = try J(c.2)
        #expect(doc.bytes == expected.bytes, "\(c.0) on \(c.1) gave \(doc)")
        #expect(modified == c.3, "\(c.0) on \(c.1)")
    }

    /// (update, source or nil, code)
    static let errors: [(String, String?, Int32)] = [
        ("{\"$set\": {\"_id\": 2}}", "{\"_id\": 1}", 66),
        ("{\"$unset\": {\"_id\": 1}}", "{\"_id\": 1}", 66),
        ("{\"$inc\": {\"_id\": 1}}", "{\"_id\": 1}", 66),
        ("{\"$set\": {\"_id.x\": 1}}", "{\"_id\": {\"x\": 0}}", 66),
        ("{\"$rename\": {\"_id\": \"x\"}}", "{\"_id\": 1}", 66),
        ("{\"_id\": 2, \"a\": 1}", "{\"_id\": 1}", 66),
        ("{\"$set\": {\"a\": 1}, \"$inc\": {\"a\": 1}}", nil, 40),
        ("{\"$set\": {\"a\": 1, \"a.b\": 1}}", nil, 40),
        ("{\"$set\": {\"a.b\": 1}, \"$unset\": {\"a\": 1}}", nil, 40),
        ("{\"$rename\": {\"a\": \"b\"}, \"$set\": {\"b\": 1}}", nil, 40),
        ("{\"$inc\": {\"a\": 1}}", "{\"_id\": 1, \"a\": \"x\"}", 14),
        ("{\"$mul\": {\"a\": 2}}", "{\"_id\": 1, \"a\": [1]}", 14),
        ("{\"$inc\": {\"a\": \"x\"}}", nil, 14),
        ("{\"$mul\": {\"a\": null}}", nil, 14),
        ("{\"$foo\": {\"a\": 1}}", nil, 9),
        ("{\"$set\": 5}", nil, 9),
        ("{\"$set\": {\"a\": 1}, \"b\": 2}", nil, 9),
        ("{\"a\": 1, \"$set\": {\"b\": 2}}", nil, 52),
        ("{\"$pop\": {\"a\": 2}}", nil, 9),
        ("{\"$set\": {\"a..b\": 1}}", nil, 56),
        ("{\"$set\": {\"\": 1}}", nil, 56),
        ("{\"$set\": {\"a.$\": 1}}", nil, 2),
        ("{\"$set\": {\"a.b\": 1}}", "{\"_id\": 1, \"a\": 5}", 28),
        ("{\"$set\": {\"a.b\": 1}}", "{\"_id\": 1, \"a\": [1]}", 28),
        ("{\"$push\": {\"a\": 1}}", "{\"_id\": 1, \"a\": 5}", 2),
        ("{\"$push\": {\"a\": {\"$each\": 1}}}", nil, 2),
        ("{\"$push\": {\"a\": {\"$each\": [1], \"$bogus\": 1}}}", nil, 2),
        ("{\"$addToSet\": {\"a\": 1}}", "{\"_id\": 1, \"a\": {}}", 2),
        ("{\"$pull\": {\"a\": 1}}", "{\"_id\": 1, \"a\": 5}", 2),
        ("{\"$rename\": {\"a\": 5}}", nil, 2),
        ("{\"$rename\": {\"a\": \"a\"}}", nil, 2),
        ("{\"$rename\": {\"a\": \"a.b\"}}", nil, 2),
        ("{\"$currentDate\": {\"a\": {\"%type\": \"string\"}}}", nil, 2),
        ("{\"$currentDate\": {\"a\": 1}}", nil, 2),
        ("{\"$pullAll\": {\"a\": 1}}", nil, 2),
    ]

    @Test(arguments: errors)
    func rejects(_ c: (String, String?, Int32)) throws {
        let updateDoc = try JQ(c.0)
        let source = try c.1.map(J)
        let err = queryError {
            let spec = try UpdateSpec(updateDoc)
            if let source { _ = try spec.apply(to: source, isUpsertInsert: false) }
        }
        #expect(err?.code == c.2, "\(c.0): \(String(describing: err))")
    }

    @Test func errorMessages() throws {
        let e66 = queryError { _ = try UpdateSpec(J("{\"$set\": {\"_id\": 2}}")).apply(to: J("{\"_id\": 1}")) }
        #expect(e66?.message == "Performing an update on the path '_id' would modify the immutable field '_id'")
        #expect(e66?.codeName == "ImmutableField")
        let e40 = queryError { _ = try UpdateSpec(J("{\"$set\": {\"a\": 1}, \"$inc\": {\"a\": 1}}")) }
        #expect(e40?.message == "Updating the path 'a' would create a conflict at 'a'")
        #expect(e40?.codeName == "ConflictingUpdateOperators")
        let e9 = queryError { _ = try UpdateSpec(J("{\"$foo\": {\"a\": 1}}")) }
        #expect(e9?.message.hasPrefix("Unknown modifier: $foo") == true)
        #expect(e9?.codeName == "FailedToParse")
        let e14 = queryError { _ = try UpdateSpec(J("{\"$inc\": {\"a\": 1}}")).apply(to: J("{\"_id\": 1, \"a\": \"x\"}")) }
        #expect(e14?.message.contains("Cannot apply $inc to a value of non-numeric type") == true)
        // int64 overflow is refused (mongod's SafeNum), never trapped nor turned into a double.
        let inc = queryError {
            _ = try UpdateSpec(J("{\"$inc\": {\"a\": 1}}")).apply(to: J("{\"_id\": 1, \"a\": {\"$numberLong\": \"9223372036854775807\"}}"))
        }
        #expect(inc?.code == 2)
        #expect(inc?.message == "Failed to apply $inc operations to current value ((NumberLong)9223372036854775807) for document {_id: 1}")
        let mul = queryError {
            _ = try UpdateSpec(J("{\"$mul\": {\"a\": {\"$numberLong\": \"-1\"}}}")).apply(to: J("{\"_id\": 1, \"a\": {\"$numberLong\": \"-9223372036854775808\"}}"))
        }
        #expect(mul?.code == 2)
    }

    @Test func setOnInsertAndCurrentDate() throws {
        let spec = try UpdateSpec(JQ("{\"$setOnInsert\": {\"c\": 1}, \"$set\": {\"a\": 1}, \"$currentDate\": {\"d\": true, \"t\": {\"%type\": \"timestamp\"}}}"))
        let (doc, modified) = try spec.apply(to: J("{\"_id\": 7}"), isUpsertInsert: true)
        #expect(modified)
        #expect(doc["c"] == .int32(1))
        #expect(doc["a"] == .int32(1))
        if case .datetime(let ms)? = doc["d"] { #expect(ms > 1_600_000_000_000) } else { Issue.record("d is not a date") }
        if case .timestamp(let t)? = doc["t"] { #expect(t.time > 1_600_000_000) } else { Issue.record("t is not a timestamp") }
        #expect(doc.keys == ["_id", "a", "c", "d", "t"])  // path order, not operator order
    }

    @Test func replacementKind() throws {
        #expect(try UpdateSpec(J("{\"a\": 1}")).isReplacement)
        #expect(try UpdateSpec(J("{}")).isReplacement)
        #expect(try !UpdateSpec(J("{\"$set\": {\"a\": 1}}")).isReplacement)
        // a replacement applied to a document without _id adds none
        let (d, _) = try UpdateSpec(J("{\"a\": 1}")).apply(to: J("{}"))
        #expect(d.keys == ["a"])
    }

    /// (filter, seed)
    static let seeds: [(String, String)] = [
        ("{\"a\": 1}", "{\"a\": 1}"),
        ("{\"_id\": 5, \"x\": \"y\"}", "{\"_id\": 5, \"x\": \"y\"}"),
        ("{\"a\": {\"$eq\": 2}}", "{\"a\": 2}"),
        ("{\"a\": {\"$gt\": 2}}", "{}"),
        ("{\"a.b\": 1, \"a.c\": 2}", "{\"a\": {\"b\": 1, \"c\": 2}}"),
        ("{\"$and\": [{\"a\": 1}, {\"b\": {\"$eq\": 2}}]}", "{\"a\": 1, \"b\": 2}"),
        ("{\"$or\": [{\"a\": 1}, {\"b\": 2}]}", "{}"),
        ("{\"a\": {\"$regularExpression\": {\"pattern\": \"x\", \"options\": \"\"}}}", "{}"),
        ("{\"a\": {\"b\": 1}}", "{\"a\": {\"b\": 1}}"),
        ("{\"a\": [1, 2]}", "{\"a\": [1, 2]}"),
        ("{\"files_id\": 3, \"n\": 0}", "{\"files_id\": 3, \"n\": 0}"),
        // The empty key names no field (found by FuzzQuery: it trapped in DocumentEditor).
        ("{\"\": 1}", "{}"),
        ("{\"\": {\"$eq\": 1}, \"a\": 2}", "{\"a\": 2}"),
    ]

    @Test(arguments: seeds)
    func upsertSeed(_ c: (String, String)) throws {
        let seed = UpdateSpec.upsertSeed(from: try J(c.0))
        #expect(seed.bytes == (try J(c.1)).bytes, "\(c.0) gave \(seed)")
    }

    @Test func emptyPathEditsNothing() throws {
        let doc = try J("{\"a\": 1}")
        let edited = try DocumentEditor.edit(doc, FieldPath(""), create: true) { _ in .set(.int32(2)) }
        #expect(edited == nil)
    }

    @Test func upsertFlow() throws {
        let seed = UpdateSpec.upsertSeed(from: try J("{\"name\": \"f\", \"n\": {\"$gt\": 1}}"))
        let spec = try UpdateSpec(J("{\"$inc\": {\"count\": 1}, \"$setOnInsert\": {\"created\": true}}"))
        let (doc, _) = try spec.apply(to: seed, isUpsertInsert: true)
        #expect(doc.bytes == (try J("{\"name\": \"f\", \"count\": 1, \"created\": true}")).bytes)
    }
}

@Suite struct UpdateRobustnessTests {
    @Test func hugeIndexesDoNotExhaustMemory() throws {
        let err = queryError { _ = try UpdateSpec(J("{\"$set\": {\"a.999999999\": 1}}")).apply(to: J("{\"_id\": 1, \"a\": []}")) }
        #expect(err?.code == 2)
    }

    @Test func extremeSliceValuesDoNotTrap() throws {
        let p = try Projection(J("{\"a\": {\"$slice\": {\"$numberLong\": \"-9223372036854775808\"}}}"))
        #expect(try p.apply(to: J("{\"a\": [1, 2]}"))["a"] == .array([.int32(1), .int32(2)]))
        let q = try Projection(J("{\"a\": {\"$slice\": [1, {\"$numberLong\": \"9223372036854775807\"}]}}"))
        #expect(try q.apply(to: J("{\"a\": [1, 2]}"))["a"] == .array([.int32(2)]))
        let u = try UpdateSpec(J("{\"$push\": {\"a\": {\"$each\": [3], \"$slice\": {\"$numberLong\": \"-9223372036854775808\"}, \"$position\": {\"$numberLong\": \"-9223372036854775808\"}}}}"))
        let (d, _) = try u.apply(to: J("{\"a\": [1]}"))
        #expect(d["a"] == .array([.int32(3), .int32(1)]))
    }
}
