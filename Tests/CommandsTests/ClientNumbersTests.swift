import BSON
import Storage
import Testing

@testable import Commands

/// The conversions of client numbers never trap and answer with mongod's codes.
@Suite struct ClientNumbersTests {
    @Test func saturatingConversionMatchesSafeNumberLong() {
        #expect(ClientNumbers.saturatingInt64(.int32(-7)) == -7)
        #expect(ClientNumbers.saturatingInt64(.int64(.min)) == .min)
        #expect(ClientNumbers.saturatingInt64(.double(-1.9)) == -1)
        #expect(ClientNumbers.saturatingInt64(.double(.nan)) == 0)
        #expect(ClientNumbers.saturatingInt64(.double(.infinity)) == .max)
        #expect(ClientNumbers.saturatingInt64(.double(-.infinity)) == .min)
        #expect(ClientNumbers.saturatingInt64(.double(1e300)) == .max)
        #expect(ClientNumbers.saturatingInt64(.double(9_223_372_036_854_775_807.0)) == .max)
        #expect(ClientNumbers.saturatingInt64(.string("1")) == nil)
    }

    @Test func magnitudeHasNoAnswerForInt64Min() {
        #expect(ClientNumbers.magnitude(.min) == nil)
        #expect(ClientNumbers.magnitude(-5) == 5)
        #expect(ClientNumbers.magnitude(.max) == .max)
    }

    @Test func nonNegativeFieldsUseIDLCodes() throws {
        #expect(try ClientNumbers.nonNegative(nil, field: "limit", path: "find.limit") == nil)
        #expect(try ClientNumbers.nonNegative(.double(1.9), field: "limit", path: "find.limit") == 1)
        for bad: BSONValue in [.int64(.min), .int32(-1), .double(-1.5), .double(-.infinity)] {
            let error = #expect(throws: CommandError.self) { try ClientNumbers.nonNegative(bad, field: "limit", path: "find.limit") }
            #expect(error?.code == 51024)
        }
        let error = #expect(throws: CommandError.self) { try ClientNumbers.nonNegative(.bool(true), field: "limit", path: "find.limit") }
        #expect(error?.code == 14)
    }

    @Test func maxTimeMSRange() throws {
        #expect(try ClientNumbers.maxTimeMS(.int32(0)) == 0)
        #expect(try ClientNumbers.maxTimeMS(.int64(2_147_483_647)) == .max)
        #expect(try ClientNumbers.maxTimeMS(.double(10)) == 10)
        for bad: BSONValue in [.string("1"), .null, .document(BSONDocument()), .int32(-1), .int64(2_147_483_648),
                               .int64(.min), .double(1.5), .double(.nan), .double(.infinity)] {
            let error = #expect(throws: CommandError.self) { try ClientNumbers.maxTimeMS(bad) }
            #expect(error?.code == 2, "\(bad)")
        }
    }

    @Test func writeConcernShape() throws {
        try ClientNumbers.checkWriteConcern(nil)
        try ClientNumbers.checkWriteConcern(.document(["w": .int32(1)]))
        try ClientNumbers.checkWriteConcern(.document(["w": "majority"]))
        #expect(throws: CommandError.self) { try ClientNumbers.checkWriteConcern(.int32(1)) }
        for w: BSONValue in [.int32(-1), .int64(.min), .int32(51), .double(.nan)] {
            let error = #expect(throws: CommandError.self) { try ClientNumbers.checkWriteConcern(.document(["w": w])) }
            #expect(error?.code == 9)
        }
    }

    @Test func countLimitIsItsMagnitudeExceptInt64Min() throws {
        #expect(try CountCommand.skipAndLimit(["limit": .int64(-3), "skip": .double(2.5)]) == (2, 3))
        #expect(try CountCommand.skipAndLimit(["limit": .int64(.max)]).limit == Int(Int64.max))
        let minimum = #expect(throws: CommandError.self) { try CountCommand.skipAndLimit(["limit": .int64(.min)]) }
        #expect(minimum?.code == 2)
        let skip = #expect(throws: CommandError.self) { try CountCommand.skipAndLimit(["skip": .int32(-1)]) }
        #expect(skip?.code == 2)
    }
}
