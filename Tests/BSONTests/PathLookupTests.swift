import Testing
@testable import BSON

/// Dotted-path lookup over nested documents and arrays.
@Suite("Path lookup")
struct PathLookupTests {
    static let doc: BSONDocument = [
        "a": .document(["b": .document(["c": "deep"]), "list": [10, .document(["x": "in array"]), [7, 8]]]),
        "n": 1,
        "": .document(["": "empty keys"]),
        "dup": 1,
    ]

    @Test(arguments: [
        ("n", BSONValue.int32(1)),
        ("a.b.c", "deep"),
        ("a.list.0", 10),
        ("a.list.1.x", "in array"),
        ("a.list.2.1", 8),
        (".", "empty keys"),
    ])
    func finds(_ path: String, _ expected: BSONValue) {
        #expect(Self.doc.value(atPath: path) == expected)
        #expect(Self.doc.element(atPath: path)?.value == expected)
    }

    @Test(arguments: ["missing", "n.x", "a.b.c.d", "a.list.3", "a.list.-1", "a.list.x", "a.b.0", "a..b", "a.list.01x"])
    func misses(_ path: String) {
        #expect(Self.doc.value(atPath: path) == nil)
    }

    @Test func wholeSubdocuments() throws {
        let sub = try #require(Self.doc.value(atPath: "a.b"))
        #expect(sub == .document(["c": "deep"]))
        let list = try #require(Self.doc.value(atPath: "a.list"))
        #expect(list.arrayValue?.count == 3)
        let e = try #require(Self.doc.element(atPath: "a.b.c"))
        #expect(e.key == "c")
        #expect(e.type == .string)
        #expect(Array(e.rawValue) == BSONValue.string("deep").encodedBytes)
    }

    @Test func keyLookupIsExact() {
        let doc: BSONDocument = ["ab": 1, "a": 2, "é": 3]
        #expect(doc["a"] == 2)
        #expect(doc["ab"] == 1)
        #expect(doc["é"] == 3)
        #expect(doc["e"] == nil)
        #expect(doc.contains("ab"))
        #expect(!doc.contains("abc"))
    }

    @Test func documentKeysInsideArraysAreNotUsed() throws {
        // Arrays are indexed by position even when their keys are not "0", "1", … (degenerate BSON).
        // {"a": ["1": 1, "0": 2]}: an array whose keys are out of order.
        let data = try #require(bytes(fromHex: "1b0000000461001300000010310001000000103000020000000000"))
        let doc = try BSONDocument(validating: data)
        #expect(doc.value(atPath: "a.0") == 1)
        #expect(doc.value(atPath: "a.1") == 2)
    }
}
