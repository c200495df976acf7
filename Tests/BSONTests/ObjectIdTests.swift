import Foundation
import Testing
@testable import BSON

/// ObjectId generation and parsing.
@Suite("ObjectId")
struct ObjectIdTests {
    static func counter(_ id: ObjectId) -> UInt32 {
        UInt32(id.bytes[9]) << 16 | UInt32(id.bytes[10]) << 8 | UInt32(id.bytes[11])
    }

    @Test func generatedIdsAreUnique() {
        let ids = (0..<20_000).map { _ in ObjectId() }
        #expect(Set(ids).count == ids.count)
    }

    @Test func counterIncreasesAndRandomPartIsStable() {
        let ids = (0..<1000).map { _ in ObjectId() }
        for (a, b) in zip(ids, ids.dropFirst()) {
            // Other tests may generate ids concurrently, so the step is at least 1, not exactly 1.
            let step = (Self.counter(b) &- Self.counter(a)) & 0xFF_FFFF
            #expect(step >= 1 && step < 0x10_0000, "counter went from \(Self.counter(a)) to \(Self.counter(b))")
            #expect(a.bytes[4..<9] == b.bytes[4..<9])
        }
    }

    @Test func timestampIsNow() {
        let before = Date().timeIntervalSince1970.rounded(.down)
        let id = ObjectId()
        let after = Date().timeIntervalSince1970.rounded(.up)
        #expect(id.timestamp.timeIntervalSince1970 >= before - 1)
        #expect(id.timestamp.timeIntervalSince1970 <= after + 1)
    }

    @Test func hexRoundTrip() throws {
        let id = ObjectId()
        #expect(ObjectId(hex: id.hex) == id)
        #expect(id.hex.count == 24)
        let fixed = try #require(ObjectId(hex: "56E1FC72e0c917e9c4714161"))
        #expect(fixed.hex == "56e1fc72e0c917e9c4714161")
        #expect(fixed.description == "ObjectId(\"56e1fc72e0c917e9c4714161\")")
        #expect(fixed.timestamp == Date(timeIntervalSince1970: 0x56E1FC72))
    }

    @Test(arguments: ["", "56e1fc72e0c917e9c471416", "56e1fc72e0c917e9c47141611", "56e1fc72e0c917e9c471416g", "56e1fc72e0c917e9c4714 61", "é6e1fc72e0c917e9c47141"])
    func badHexIsRejected(_ text: String) {
        #expect(ObjectId(hex: text) == nil)
    }

    @Test func bytesMustBeTwelve() {
        #expect(ObjectId(bytes: [UInt8](repeating: 1, count: 11)) == nil)
        #expect(ObjectId(bytes: [UInt8](repeating: 1, count: 13)) == nil)
        #expect(ObjectId(bytes: [UInt8](repeating: 1, count: 12)) != nil)
    }

    @Test func orderFollowsBytes() throws {
        let a = try #require(ObjectId(hex: "000000000000000000000001"))
        let b = try #require(ObjectId(hex: "000000000000000000000100"))
        let c = try #require(ObjectId(hex: "010000000000000000000000"))
        #expect(a < b && b < c)
        let first = ObjectId()
        let second = ObjectId()
        #expect(first.timestamp <= second.timestamp)
    }
}
