import BSON
import Query
import Testing

@testable import Storage

/// Hostile `$in` lists cannot make the planner build an unbounded number of key ranges.
@Suite struct QueryPlannerLimitTests {
    let compound = IndexDescriptor(name: "a_1_b_1_c_1", key: [("a", 1), ("b", 1), ("c", 1)], unique: false, multikey: false)

    func ranges(_ p: AccessPlan) -> [KeyRange] {
        if case .index(_, let r, _) = p.scan { return r }
        return []
    }

    func list(_ n: Int) -> BSONValue {
        .array((0..<n).map { .int32(Int32($0)) })
    }

    @Test func inListsOnACompoundIndexStopMultiplyingAtTheCap() throws {
        // 200 × 200 × 200 would be 8 million ranges; 200 × 200 = 40,000 is past the cap too.
        let filter = try Filter(["a": .document(["$in": list(200)]), "b": .document(["$in": list(200)]), "c": .document(["$in": list(200)])])
        let plan = try QueryPlanner.plan(filter: filter, sort: nil, indexes: [compound], hint: nil)
        #expect(ranges(plan).count == 200)
        #expect(ranges(plan).count <= QueryPlanner.maxRanges)
        // Small lists still multiply into exact prefixes.
        let small = try Filter(["a": .document(["$in": list(4)]), "b": .document(["$in": list(5)]), "c": .document(["$in": list(6)])])
        #expect(ranges(try QueryPlanner.plan(filter: small, sort: nil, indexes: [compound], hint: nil)).count == 120)
    }
}
