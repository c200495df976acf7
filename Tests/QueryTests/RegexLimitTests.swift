import BSON
import Testing
@testable import Query

/// PCRE2 match limits: a catastrophic pattern stops after bounded work and fails the query with
/// 51156 instead of pinning a thread; ordinary patterns are unaffected.
@Suite struct RegexLimitTests {
    let catastrophic = String(repeating: "a", count: 40) + "b"

    @Test func aCatastrophicPatternHitsTheMatchLimit() throws {
        let regex = try CompiledRegex(pattern: "^(a+)+$", options: "")
        #expect(regex.matchError == nil)
        #expect(regex.matches(catastrophic) == false)
        let error = try #require(regex.matchError)
        #expect(error.code == 51156)
        #expect(error.message.contains("match limit exceeded"))
        // Once failed, the regex no longer runs: even a string it would match is refused.
        #expect(regex.matches("aaa") == false)
    }

    @Test func ordinaryPatternsOnLongStringsAreUnaffected() throws {
        let long = String(repeating: "a", count: 1 << 20) + "b"
        for pattern in ["a+b", "^a*?b$", "(?i)A+B", "[a-z]+b", "a.*b"] {
            let regex = try CompiledRegex(pattern: pattern, options: "")
            #expect(regex.matches(long), "\(pattern)")
            #expect(regex.matchError == nil, "\(pattern)")
        }
    }

    @Test func theFilterReportsTheFailureAfterMatching() throws {
        let filter = try Filter(["s": .document(["$regex": .string("^(a+)+$")])])
        #expect(filter.matchingFailed == false)
        #expect(throws: Never.self) { try filter.checkMatching() }
        #expect(filter.matches(["s": .string(catastrophic)]) == false)
        #expect(filter.matchingFailed)
        #expect(throws: QueryError.self) { try filter.checkMatching() }
        // Regexes nested in $in, $not, $elemMatch and $or are watched too.
        for shape: BSONDocument in [
            ["s": .document(["$in": .array([.regex(BSONRegex(pattern: "^(a+)+$", options: ""))])])],
            ["s": .document(["$not": .regex(BSONRegex(pattern: "^(a+)+$", options: ""))])],
            ["$or": .array([.document(["x": .int32(1)]), .document(["s": .document(["$regex": .string("^(a+)+$")])])])],
            ["l": .document(["$elemMatch": .document(["$regex": .string("^(a+)+$")])])],
        ] {
            let f = try Filter(shape)
            _ = f.matches(["s": .string(catastrophic), "l": .array([.string(catastrophic)])])
            #expect(f.matchingFailed, "\(shape)")
        }
    }

    @Test func elemMatchProjectionsAndPullFailInsteadOfNotMatching() throws {
        let doc: BSONDocument = ["_id": .int32(1), "arr": .array([.document(["s": .string(catastrophic)])]), "l": .array([.string(catastrophic)])]
        let projection = try Projection(["arr": .document(["$elemMatch": .document(["s": .document(["$regex": .string("^(a+)+$")])])])])
        #expect(throws: Never.self) { try projection.checkMatching() }
        #expect { _ = try projection.apply(to: doc) } throws: { ($0 as? QueryError)?.code == 51156 }
        for pull: BSONDocument in [
            ["l": .document(["$regex": .string("^(a+)+$")])],
            ["l": .regex(BSONRegex(pattern: "^(a+)+$", options: ""))],
            ["arr": .document(["s": .document(["$regex": .string("^(a+)+$")])])],
        ] {
            let update = try UpdateSpec(["$pull": .document(pull)])
            #expect { _ = try update.apply(to: doc) } throws: { ($0 as? QueryError)?.code == 51156 }
        }
        // An ordinary pattern still projects and pulls.
        let ordinary = try Projection(["arr": .document(["$elemMatch": .document(["s": .document(["$regex": .string("^a+b$")])])])])
        #expect(try ordinary.apply(to: doc)["arr"] == .array([.document(["s": .string(catastrophic)])]))
    }

    @Test func patternsLongerThanMongodsLimitAreInvalid() throws {
        #expect(throws: Never.self) { _ = try CompiledRegex(pattern: String(repeating: "c", count: 32764), options: "") }
        #expect {
            _ = try CompiledRegex(pattern: String(repeating: "c", count: 32765), options: "")
        } throws: { error in
            (error as? QueryError)?.code == 51091
        }
    }
}
