import Testing
@testable import BSON

/// The document builder: field order, types, replacement and removal in place.
@Suite("BSONDocument building")
struct BSONBuilderTests {
    /// One value of every type, in type-byte order.
    static let everyType: [(String, BSONValue)] = [
        ("double", .double(1.5)),
        ("string", .string("héllo\u{0}world")),
        ("document", .document(["x": 1])),
        ("array", [1, "two", [3.0]]),
        ("binary", .binary(BSONBinary(subtype: 0x80, data: [1, 2, 3]))),
        ("oldBinary", .binary(BSONBinary(subtype: 2, data: [9, 8]))),
        ("undefined", .undefined),
        ("objectId", .objectId(ObjectId(hex: "56e1fc72e0c917e9c4714161")!)),
        ("bool", true),
        ("datetime", .datetime(-1)),
        ("null", .null),
        ("regex", .regex(BSONRegex(pattern: "^a.*b$", options: "ix"))),
        ("dbPointer", .dbPointer(BSONDBPointer(ref: "db.c", id: ObjectId(hex: "56e1fc72e0c917e9c4714161")!))),
        ("javascript", .javascript("function() {}")),
        ("symbol", .symbol("sym")),
        ("codeWithScope", .javascriptWithScope(BSONCodeWithScope(code: "x", scope: ["x": 1]))),
        ("int32", .int32(-7)),
        ("timestamp", .timestamp(BSONTimestamp(time: 0xFFFF_FFFF, increment: 1))),
        ("int64", .int64(.max)),
        ("decimal128", .decimal128(Decimal128("1.23E+4")!)),
        ("minKey", .minKey),
        ("maxKey", .maxKey),
    ]

    @Test func appendKeepsOrderAndTypes() throws {
        let doc = BSONDocument(Self.everyType)
        let checked = try BSONDocument(validating: doc.bytes)
        #expect(checked.keys == Self.everyType.map(\.0))
        #expect(checked.count == Self.everyType.count)
        for ((key, value), (k2, v2)) in zip(Self.everyType, checked.pairs) {
            #expect(key == k2)
            #expect(value == v2, "\(key)")
            #expect(checked.element(forKey: key)?.type == value.type)
        }
        // The canonical extended JSON round trip keeps every byte.
        #expect(try BSONDocument(extendedJSON: checked.canonicalExtendedJSON).bytes == checked.bytes)
    }

    @Test func encodedLengthsArePatched() throws {
        var doc = BSONDocument()
        #expect(doc.bytes == [5, 0, 0, 0, 0])
        #expect(doc.isEmpty)
        doc.append("a", 1)
        #expect(doc.bytes == [12, 0, 0, 0, 0x10, 0x61, 0, 1, 0, 0, 0, 0])
        doc.append("b", "x")
        try BSONDocument.validate(doc.bytes)
        #expect(!doc.isEmpty)
    }

    @Test func setReplacesFirstInPlaceOrAppends() throws {
        var doc: BSONDocument = ["a": 1, "b": 2, "c": 3]
        doc.set("b", "two")
        #expect(doc.keys == ["a", "b", "c"])
        #expect(doc["b"] == "two")
        doc.set("d", .int64(4))
        #expect(doc.keys == ["a", "b", "c", "d"])
        #expect(doc["d"] == .int64(4))
        doc.set("a", .document(["deep": [1, 2]]))
        #expect(doc.keys == ["a", "b", "c", "d"])
        #expect(doc.value(atPath: "a.deep.1") == 2)
        try BSONDocument.validate(doc.bytes)
        #expect(doc == BSONDocument([("a", .document(["deep": [1, 2]])), ("b", "two"), ("c", 3), ("d", .int64(4))]))
    }

    @Test func setReplacesOnlyTheFirstDuplicate() throws {
        var doc = BSONDocument([("k", 1), ("x", 0), ("k", 2)])
        doc.set("k", 9)
        #expect(doc.pairs.map(\.value) == [9, 0, 2])
        try BSONDocument.validate(doc.bytes)
    }

    @Test func removeDropsEveryOccurrence() throws {
        var doc = BSONDocument([("k", 1), ("x", 0), ("k", 2), ("y", 3)])
        let removedBoth = doc.remove("k")
        #expect(removedBoth)
        #expect(doc.keys == ["x", "y"])
        let removedAgain = doc.remove("k")
        #expect(!removedAgain)
        let removedY = doc.remove("y")
        let removedX = doc.remove("x")
        #expect(removedY && removedX)
        #expect(doc == BSONDocument())
        try BSONDocument.validate(doc.bytes)
    }

    @Test func prependingPutsKeyFirstAndDropsOldCopies() throws {
        let doc = BSONDocument([("a", 1), ("_id", 5), ("b", 2), ("_id", 6)])
        let out = doc.prepending("_id", .objectId(ObjectId(hex: "000000000000000000000001")!))
        #expect(out.keys == ["_id", "a", "b"])
        #expect(out["_id"]?.type == .objectId)
        #expect(out["b"] == 2)
        try BSONDocument.validate(out.bytes)
        #expect(BSONDocument().prepending("x", true).pairs.map(\.key) == ["x"])
    }

    @Test func rawAndBinaryAppends() throws {
        let source: BSONDocument = ["a": 1.5, "b": [true]]
        var doc = BSONDocument()
        for e in source.elements.reversed() { doc.append(raw: e) }
        #expect(doc.keys == ["b", "a"])
        #expect(doc["a"] == 1.5)
        doc.appendBinary("bin", subtype: 4, payload: [UInt8](repeating: 0xAB, count: 16))
        let bin = try #require(doc["bin"])
        #expect(bin == .binary(BSONBinary(subtype: 4, data: [UInt8](repeating: 0xAB, count: 16))))
        let e = try #require(doc.element(forKey: "bin"))
        #expect(e.binaryPayloadRange.map { Array(doc.bytes[$0]) } == [UInt8](repeating: 0xAB, count: 16))
        try BSONDocument.validate(doc.bytes)
    }

    @Test func regexOptionsAreEncodedAlphabetically() {
        let doc: BSONDocument = ["r": .regex(BSONRegex(pattern: "a", options: "xmi"))]
        #expect(doc["r"] == .regex(BSONRegex(pattern: "a", options: "imx")))
    }

    /// Prose test 2 of the corpus spec (duplicate keys): we keep both in order, lookups take the first.
    @Test func duplicateKeys() throws {
        let data = try #require(bytes(fromHex: "1700000010666f6f000100000010666f6f000200000000"))
        let doc = try BSONDocument(validating: data)
        #expect(doc.pairs.map(\.key) == ["foo", "foo"])
        #expect(doc.pairs.map(\.value) == [1, 2])
        #expect(doc["foo"] == 1)
        #expect(rebuiltThroughValues(doc).bytes == data)
        #expect(try BSONDocument(extendedJSON: "{\"foo\": 1, \"foo\": 2}").bytes == data)
        var built = BSONDocument()
        built.append("foo", 1)
        built.append("foo", 2)
        #expect(built.bytes == data)
        #expect(doc.canonicalExtendedJSON == "{ \"foo\" : { \"$numberInt\" : \"1\" }, \"foo\" : { \"$numberInt\" : \"2\" } }")
    }

    /// Keys cannot hold NUL: the builder cuts a key at its first NUL (it never writes a corrupt
    /// document); the extended JSON parser rejects such keys (corpus parseErrors).
    @Test func nulInKeyIsCutNotCorrupting() throws {
        var doc = BSONDocument()
        doc.append("a\u{0}b", 1)
        #expect(doc.keys == ["a"])
        try BSONDocument.validate(doc.bytes)
    }

    @Test func integerLiteralsPickTheSmallestType() {
        let small: BSONValue = 5
        let big: BSONValue = 5_000_000_000
        #expect(small == .int32(5))
        #expect(big == .int64(5_000_000_000))
    }
}
