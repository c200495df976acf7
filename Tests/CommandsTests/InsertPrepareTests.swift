import BSON
import Storage
import Testing

@testable import Commands

/// mongod's `fixDocumentForInsert` as `InsertCommand.prepare` implements it.
@Suite struct InsertPrepareTests {
    static let empty = BSONValue.timestamp(BSONTimestamp(time: 0, increment: 0))

    @Test func invalidIdIsInvalidIdField() {
        for (id, kind) in [(BSONValue.array([]), "array"), (.regex(BSONRegex(pattern: "x")), "regex"), (.undefined, "undefined")] {
            let error = #expect(throws: CommandError.self) { try InsertCommand.prepare(["_id": id]) }
            #expect(error?.code == 53 && error?.codeName == "InvalidIdField")
            #expect(error?.message == "The '_id' value cannot be of type \(kind)")
        }
    }

    @Test func emptyTimestampReplacedUnlessBypassed() throws {
        let doc: BSONDocument = ["a": Self.empty, "_id": 1, "n": .document(["t": Self.empty])]
        let fixed = try InsertCommand.prepare(doc)
        #expect(fixed.keys == ["_id", "a", "n"])
        guard case .timestamp(let t)? = fixed["a"] else {
            Issue.record("a is \(String(describing: fixed["a"]))")
            return
        }
        #expect(t.time > 0)
        #expect(fixed["n"] == .document(["t": Self.empty]))
        let kept = try InsertCommand.prepare(doc, replacingEmptyTimestamps: false)
        #expect(kept.keys == ["_id", "a", "n"] && kept["a"] == Self.empty)
    }

    @Test func idFirstWithoutTimestampsIsTheSameDocument() throws {
        let doc: BSONDocument = ["_id": Self.empty, "x": 1]
        #expect(try InsertCommand.prepare(doc).bytes == doc.bytes)
    }
}
