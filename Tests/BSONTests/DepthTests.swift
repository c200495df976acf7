import BSON
import Testing

/// Nesting limits: the wire accepts 200 levels, storage counts as mongod (empty documents free).
@Suite struct DepthTests {
    static func nested(_ levels: Int, innermost: BSONValue = .int32(1)) -> BSONDocument {
        var doc: BSONDocument = ["a": innermost]
        for _ in 1..<levels { doc = ["a": .document(doc)] }
        return doc
    }

    @Test func storageDepthCountsNonEmptyLevels() {
        #expect(BSONDocument().storageDepth == 1)
        #expect(DepthTests.nested(1).storageDepth == 1)
        #expect(DepthTests.nested(180).storageDepth == 180)
        #expect(DepthTests.nested(3, innermost: .document(BSONDocument())).storageDepth == 3)
        #expect(DepthTests.nested(2, innermost: .array([.int32(1)])).storageDepth == 3)
    }

    @Test func validationAcceptsExactlyMaxDepthLevels() throws {
        _ = try BSONDocument(validating: DepthTests.nested(BSONDocument.maxDepth).bytes)
        #expect(throws: BSONError.self) { try BSONDocument(validating: DepthTests.nested(BSONDocument.maxDepth + 1).bytes) }
    }
}
