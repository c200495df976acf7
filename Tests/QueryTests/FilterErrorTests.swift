import BSON
import Testing
@testable import Query

@Suite struct FilterErrorTests {
    /// (filter, code, message fragment)
    static let cases: [(String, Int32, String)] = [
        ("{\"a\": {\"$foo\": 1}}", 2, "unknown operator: $foo"),
        ("{\"$foo\": 1}", 2, "unknown top level operator: $foo"),
        ("{\"$where\": \"x\"}", 2, "unknown top level operator: $where"),
        ("{\"a\": {\"$gt\": 1, \"b\": 2}}", 2, "unknown operator: b"),
        ("{\"a\": {\"$in\": 1}}", 2, "$in needs an array"),
        ("{\"a\": {\"$nin\": \"x\"}}", 2, "$nin needs an array"),
        ("{\"a\": {\"$in\": [{\"$gt\": 1}]}}", 2, "cannot nest $ under $in"),
        ("{\"a\": {\"$size\": -1}}", 2, "$size may not be negative"),
        ("{\"a\": {\"$size\": 1.5}}", 2, "$size must be a whole number"),
        ("{\"a\": {\"$size\": \"1\"}}", 2, "$size needs a number"),
        ("{\"a\": {\"$mod\": [1]}}", 2, "malformed mod, not enough elements"),
        ("{\"a\": {\"$mod\": [1, 2, 3]}}", 2, "malformed mod, too many elements"),
        ("{\"a\": {\"$mod\": 5}}", 2, "malformed mod, needs to be an array"),
        ("{\"a\": {\"$mod\": [0, 1]}}", 2, "divisor cannot be 0"),
        ("{\"a\": {\"$mod\": [\"x\", 1]}}", 2, "malformed mod, divisor not a number"),
        ("{\"a\": {\"$mod\": [2, \"x\"]}}", 2, "malformed mod, remainder not a number"),
        ("{\"$and\": []}", 2, "$and/$or/$nor must be a nonempty array"),
        ("{\"$or\": {}}", 2, "$or must be an array"),
        ("{\"$nor\": [1]}", 2, "$or/$and/$nor entries need to be full objects"),
        ("{\"a\": {\"%options\": \"i\"}}", 2, "$options needs a $regex"),
        ("{\"a\": {\"%regex\": \"x\", \"%options\": \"z\"}}", 51108, "invalid flag in regex options: z"),
        ("{\"a\": {\"%regex\": \"(\"}}", 51091, "Regular expression is invalid"),
        ("{\"a\": {\"%regex\": 5}}", 2, "$regex has to be a string"),
        ("{\"a\": {\"$not\": 5}}", 2, "$not needs a regex or a document"),
        ("{\"a\": {\"$not\": {}}}", 2, "$not cannot be empty"),
        ("{\"a\": {\"$not\": {\"b\": 1}}}", 2, "$not needs a regex or a document"),
        ("{\"a\": {\"$elemMatch\": 1}}", 2, "$elemMatch needs an Object"),
        ("{\"a\": {\"$all\": 1}}", 2, "$all needs an array"),
        ("{\"a\": {\"$all\": [{\"$gt\": 1}]}}", 2, "no $ expressions in $all"),
        ("{\"a\": {\"%type\": \"nope\"}}", 2, "Unknown type name alias: nope"),
        ("{\"a\": {\"%type\": 100}}", 2, "Invalid numerical type code"),
        ("{\"a\": {\"%type\": {}}}", 2, "type must be represented as a number or a string"),
        ("{\"a\": {\"$ne\": {\"$regularExpression\": {\"pattern\": \"x\", \"options\": \"\"}}}}", 2, "Can't have regex as arg to $ne."),
        ("{\"a\": {\"$gt\": {\"$regularExpression\": {\"pattern\": \"x\", \"options\": \"\"}}}}", 2, "Can't have RegEx"),
        ("{\"a\": {\"$elemMatch\": {\"$foo\": 1}}}", 2, "unknown operator: $foo"),
        ("{\"$or\": [{\"a\": {\"$bar\": 1}}]}", 2, "unknown operator: $bar"),
    ]

    @Test(arguments: cases)
    func rejects(_ c: (String, Int32, String)) throws {
        let doc = try JQ(c.0)
        let err = queryError { _ = try Filter(doc) }
        #expect(err?.code == c.1, "\(c.0): \(String(describing: err))")
        #expect(err?.message.contains(c.2) == true, "\(c.0): \(String(describing: err))")
        if c.1 == 2 { #expect(err?.codeName == "BadValue") }
    }

    @Test func literalDBRefIsNotAnOperatorDocument() throws {
        let f = try Filter(JQ("{\"a\": {\"$ref\": \"c\", \"$id\": 1}}"))
        #expect(f.matches(try JQ("{\"a\": {\"$ref\": \"c\", \"$id\": 1}}")))
    }
}

@Suite struct FilterAnalysisTests {
    @Test func equalityBounds() throws {
        let f = try Filter(J("{\"_id\": 5, \"x\": {\"$eq\": \"a\"}}"))
        #expect(f.bounds(for: "_id")?.equalityValue == .int32(5))
        #expect(f.bounds(for: "x")?.equalityValue == .string("a"))
        #expect(f.bounds(for: "y") == nil)
    }

    @Test func gridfsChunkRange() throws {
        let f = try Filter(J("{\"files_id\": {\"$oid\": \"5f0000000000000000000001\"}, \"n\": {\"$gte\": 2, \"$lt\": 7}}"))
        let n = try #require(f.bounds(for: "n"))
        #expect(n.lower == KeyBound(.int32(2), inclusive: true))
        #expect(n.upper == KeyBound(.int32(7), inclusive: false))
        #expect(!n.isEmpty)
        #expect(f.bounds(for: "files_id")?.equalityValue != nil)
        let enc = n.encoded
        #expect(enc.lower == IndexKeyEncoder.encode(.int32(2)) && enc.lowerInclusive)
        #expect(enc.upper == IndexKeyEncoder.encode(.int32(7)) && !enc.upperInclusive)
    }

    @Test func openSidesUseTypeBracket() throws {
        let f = try Filter(J("{\"n\": {\"$gt\": 3}}"))
        let enc = try #require(f.bounds(for: "n")).encoded
        #expect(enc.upper == [IndexKeyEncoder.Tag.number + 1] && !enc.upperInclusive)
        let s = try Filter(J("{\"s\": {\"$lt\": \"m\"}}"))
        let es = try #require(s.bounds(for: "s")).encoded
        #expect(es.lower == [IndexKeyEncoder.Tag.string] && es.lowerInclusive)
    }

    @Test func intersectionAndEmptiness() throws {
        let f = try Filter(J("{\"$and\": [{\"n\": {\"$gt\": 1}}, {\"n\": {\"$gt\": 4}}, {\"n\": {\"$lte\": 9}}]}"))
        let b = try #require(f.bounds(for: "n"))
        #expect(b.lower == KeyBound(.int32(4), inclusive: false))
        #expect(b.upper == KeyBound(.int32(9), inclusive: true))
        #expect(f.constraints(for: "n").count == 3)
        let e = try Filter(J("{\"n\": {\"$gt\": 5, \"$lt\": 3}}"))
        #expect(e.bounds(for: "n")?.isEmpty == true)
        let t = try Filter(J("{\"n\": {\"$gt\": 5, \"$lt\": \"a\"}}"))
        #expect(t.bounds(for: "n")?.isEmpty == true)
    }

    @Test func notPushedDown() throws {
        #expect(try Filter(J("{\"$or\": [{\"a\": 1}, {\"a\": 2}]}")).bounds(for: "a") == nil)
        #expect(try Filter(J("{\"a\": {\"$ne\": 1}}")).bounds(for: "a") == nil)
        #expect(try Filter(J("{\"a\": null}")).bounds(for: "a") == nil)
        #expect(try Filter(J("{\"a\": [1, 2]}")).bounds(for: "a") == nil)
        #expect(try Filter(J("{\"a\": {\"$gt\": {\"$minKey\": 1}}}")).bounds(for: "a") == nil)
        #expect(try Filter(J("{\"a\": {\"$not\": {\"$gt\": 1}}}")).bounds(for: "a") == nil)
    }

    @Test func inValues() throws {
        #expect(try Filter(J("{\"a\": {\"$in\": [1, 2]}}")).inValues(for: "a") == [.int32(1), .int32(2)])
        #expect(try Filter(J("{\"a\": 3}")).inValues(for: "a") == [.int32(3)])
        #expect(try Filter(J("{\"a\": {\"$in\": [1, null]}}")).inValues(for: "a") == nil)
        #expect(try Filter(J("{\"a\": {\"$in\": [{\"$regularExpression\": {\"pattern\": \"x\", \"options\": \"\"}}]}}")).inValues(for: "a") == nil)
    }

    static let prefixes: [(String, String?)] = [
        ("^abc", "abc"), ("^abc.*", "abc"), ("^ab\\.c", "ab"), ("abc", nil), ("^a|b", nil),
        ("^abc?", "ab"), ("^abc*", "ab"), ("^abc+", "abc"), ("^a{2}", nil), ("^", nil), ("^(abc)", nil),
        ("^report-2024", "report-2024"), ("^ab[cd]", "ab"),
    ]

    @Test(arguments: prefixes)
    func literalPrefix(_ c: (String, String?)) {
        #expect(Filter.literalPrefix(of: c.0) == c.1, "\(c.0)")
    }

    @Test func regexPrefixOnlyWithoutOptions() throws {
        #expect(try Filter(JQ("{\"f\": {\"%regex\": \"^rep\"}}")).regexPrefix(for: "f") == "rep")
        #expect(try Filter(JQ("{\"f\": {\"%regex\": \"^rep\", \"%options\": \"i\"}}")).regexPrefix(for: "f") == nil)
        #expect(try Filter(JQ("{\"f\": {\"$regularExpression\": {\"pattern\": \"^x/\", \"options\": \"\"}}}")).regexPrefix(for: "f") == "x/")
    }
}
