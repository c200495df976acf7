import Testing

@testable import BSON

@Suite struct BSONWriterTests {
    @Test func nestedContainersMatchTheValueEncoder() throws {
        let inner: BSONDocument = ["a": .int32(1), "b": "x"]
        var w = BSONWriter()
        w.beginDocument("cursor")
        w.beginArray("firstBatch")
        w.append("", document: inner)
        w.append("ignored", .int64(5))
        w.end()
        w.append("id", .int64(42))
        w.end()
        w.append("ok", .double(1))
        let built = w.finish()
        let expected: BSONDocument = [
            "cursor": .document(["firstBatch": .array([.document(inner), .int64(5)]), "id": .int64(42)]),
            "ok": .double(1),
        ]
        #expect(built.bytes == expected.bytes)
        try BSONDocument.validate(built.bytes)
    }

    @Test func emptyRootAndUnbalancedEndsAreSafe() throws {
        var w = BSONWriter()
        w.end()
        w.beginArray("a")
        let doc = w.finish()
        #expect(doc.bytes == (["a": .array([])] as BSONDocument).bytes)
        try BSONDocument.validate(doc.bytes)
    }
}
