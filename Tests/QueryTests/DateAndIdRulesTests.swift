import BSON
import Foundation
import Testing
@testable import Query

/// Date arithmetic at the int64 ends, the empty-timestamp rule, the cluster clock and `_id` rules.
@Suite struct DateAndIdRulesTests {
    static let maxDate = BSONValue.datetime(.max)
    static let minDate = BSONValue.datetime(.min)

    private func overflow(_ body: () throws -> Void) -> QueryError? {
        let error = queryError(body)
        #expect(error?.code == 15 && error?.codeName == "Overflow", "\(String(describing: error))")
        return error
    }

    @Test func addPastEitherEndIsOverflowNotAWrap() {
        let e = overflow { _ = try AggregationArithmetic.add([.datetime(.max - 1), .int32(2)]) }
        #expect(e?.message == "date overflow in $add")
        _ = overflow { _ = try AggregationArithmetic.add([.int64(.min), .datetime(-1)]) }
        _ = overflow { _ = try AggregationArithmetic.add([.datetime(0), .double(.nan)]) }
        _ = overflow { _ = try AggregationArithmetic.add([.datetime(0), .double(.infinity)]) }
        _ = overflow { _ = try AggregationArithmetic.add([.datetime(0), .double(9_223_372_036_854_775_807.0)]) }
        // int64 parts that overflow together (promoted to double) still cannot make a date.
        _ = overflow { _ = try AggregationArithmetic.add([.datetime(0), .int64(.max), .int64(.max)]) }
    }

    @Test func addReachesTheEndsExactly() throws {
        #expect(try AggregationArithmetic.add([.datetime(.max - 1), .int32(1)]) == Self.maxDate)
        #expect(try AggregationArithmetic.add([.int64(.min + 5), .datetime(-5)]) == Self.minDate)
        #expect(try AggregationArithmetic.add([.datetime(1000), .double(0.5)]) == .datetime(1001))
        #expect(try AggregationArithmetic.add([.datetime(1000), .double(-0.5)]) == .datetime(999))
    }

    @Test func subtractWithDates() throws {
        _ = overflow { _ = try AggregationArithmetic.subtract(.datetime(10), .int64(.min)) }
        _ = overflow { _ = try AggregationArithmetic.subtract(.datetime(.min), .datetime(1)) }
        _ = overflow { _ = try AggregationArithmetic.subtract(.datetime(.max), .datetime(-1)) }
        _ = overflow { _ = try AggregationArithmetic.subtract(.datetime(-1), .double(.nan)) }
        let e = overflow { _ = try AggregationArithmetic.subtract(.datetime(-10), .double(9.3e18)) }
        #expect(e?.message == "date overflow in $subtract")
        #expect(try AggregationArithmetic.subtract(.datetime(.max), .datetime(0)) == .int64(.max))
        // mongod's rounding: a double half away from zero, a decimal half to even.
        #expect(try AggregationArithmetic.subtract(.datetime(1_683_794_065_002), .double(0.5)) == .datetime(1_683_794_065_001))
        #expect(try AggregationArithmetic.subtract(.datetime(1_683_794_065_002), .double(1.5)) == .datetime(1_683_794_065_000))
    }

    @Test func isoDateOfTheEndsDoesNotTrap() {
        #expect(!AggregationArithmetic.isoDate(.max).isEmpty)
        #expect(!AggregationArithmetic.isoDate(.min).isEmpty)
        #expect(AggregationArithmetic.isoDate(0) == "1970-01-01T00:00:00.000Z")
    }

    @Test func clockNeverRepeatsOrGoesBack() {
        let t0 = Date(timeIntervalSince1970: 4_000_000_000)
        let a = LogicalClock.tick(now: t0)
        let b = LogicalClock.tick(now: t0)
        let c = LogicalClock.tick(now: Date(timeIntervalSince1970: 1))  // wall clock went back
        #expect(a < b && b < c)
        #expect(b.time == a.time && b.increment == a.increment + 1)
        // Dates no UInt32 second can hold are clamped, not trapped on.
        _ = LogicalClock.tick(now: Date(timeIntervalSince1970: 1e30))
        _ = LogicalClock.tick(now: Date(timeIntervalSince1970: -1e30))
    }

    @Test func emptyTimestampsReplacedAtTopLevelOnly() throws {
        let empty = BSONValue.timestamp(BSONTimestamp(time: 0, increment: 0))
        var doc = BSONDocument()
        doc.append("_id", empty)
        doc.append("a", empty)
        doc.append("b", .document(["c": empty]))
        doc.append("d", .timestamp(BSONTimestamp(time: 0, increment: 1)))
        doc.append("e", empty)
        let fixed = try #require(LogicalClock.replacingEmptyTimestamps(in: doc))
        #expect(fixed.keys == ["_id", "a", "b", "d", "e"])
        #expect(fixed["_id"] == empty && fixed["b"] == .document(["c": empty]))
        #expect(fixed["d"] == .timestamp(BSONTimestamp(time: 0, increment: 1)))
        guard case .timestamp(let a)? = fixed["a"], case .timestamp(let e)? = fixed["e"] else {
            Issue.record("not timestamps: \(fixed)")
            return
        }
        #expect(a.time > 0 && a < e)
        #expect(LogicalClock.replacingEmptyTimestamps(in: ["_id": empty, "x": 1]) == nil)
    }

    @Test func replacementUpdatesGetTheRuleOperatorUpdatesDoNot() throws {
        let empty = BSONValue.timestamp(BSONTimestamp(time: 0, increment: 0))
        let replaced = try UpdateSpec(["a": empty]).replacingEmptyTimestamps()
        guard case .timestamp(let t)? = replaced.replacement?["a"] else {
            Issue.record("not replaced")
            return
        }
        #expect(t.time > 0)
        let op = try UpdateSpec(["$set": .document(["a": empty])]).replacingEmptyTimestamps()
        #expect(!op.isReplacement)
        let (doc, _) = try op.apply(to: ["_id": 1])
        #expect(doc["a"] == empty)
    }

    @Test func storableIdRules() {
        for (bad, kind) in [(BSONValue.array([1]), "array"), (.regex(BSONRegex(pattern: "a", options: "")), "regex"), (.undefined, "undefined")] {
            let e = queryError { try StorableId.check(bad) }
            #expect(e?.code == 53 && e?.codeName == "InvalidIdField")
            #expect(e?.message == "The '_id' value cannot be of type \(kind)")
        }
        #expect(queryError { try StorableId.check(.document(["$x": 1])) }?.code == 52)
        #expect(queryError { try StorableId.check(.document(["x": .array([1])])) } == nil)
        #expect(queryError { try StorableId.check(.timestamp(BSONTimestamp(time: 0, increment: 0))) } == nil)
    }

    @Test func regexErrorsInMongodsOrder() {
        let flag = queryError { _ = try CompiledRegex(pattern: "a\0b", options: "iz") }
        #expect(flag?.code == 51108 && flag?.message == " invalid flag in regex options: z")
        let nul = queryError { _ = try CompiledRegex(pattern: "a\0b", options: "i") }
        #expect(nul?.code == 2 && nul?.message == "Regular expression cannot contain an embedded null byte")
        #expect(queryError { _ = try CompiledRegex(pattern: "x", options: "i\0") }?.code == 51108)
        #expect(queryError { _ = try CompiledRegex(pattern: "x", options: "imsux") } == nil)
    }
}
