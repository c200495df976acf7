import BSON
import Query
import Storage

extension StorageConformance {
    static let errorChecks: [ConformanceCheck] = [
        ConformanceCheck(name: "errorCodes", run: errorCodes),
    ]

    static func errorCodes(_ engine: any StorageEngine) async throws {
        let db = database("errors")
        let c = ns(db, "c")
        try await engine.createCollection(c, options: [:])
        try await expectError(48) { try await engine.createCollection(c, options: [:]) }
        try await expectError(26) { _ = try await engine.listIndexes(ns(db, "missing")) }
        try await expectError(26) { _ = try await engine.dropIndexes(.all, on: ns(db, "missing")) }
        try await expectError(27) { _ = try await engine.dropIndexes(.name("nope"), on: c) }
        try await expectError(72) { _ = try await engine.dropIndexes(.name("_id_"), on: c) }
        try await expectError(26) { try await engine.renameCollection(from: ns(db, "missing"), to: ns(db, "x"), dropTarget: false) }
        try await expectError(20) { try await engine.renameCollection(from: c, to: c, dropTarget: false) }
        try await engine.createCollection(ns(db, "other"), options: [:])
        try await expectError(48) { try await engine.renameCollection(from: c, to: ns(db, "other"), dropTarget: false) }
        try await expectError(26) { _ = try await engine.validate(ns(db, "missing"), full: false) }
        _ = try await engine.createIndexes([indexSpec("a_1", [("a", 1)])], on: c)
        try await expectError(86) { _ = try await engine.createIndexes([indexSpec("a_1", [("b", 1)])], on: c) }
        try await expectError(85) { _ = try await engine.createIndexes([indexSpec("a_1", [("a", 1)], unique: true)], on: c) }
        try await expectError(85) { _ = try await engine.createIndexes([indexSpec("other", [("a", 1)])], on: c) }
        // Same spec again is not an error.
        let again = try await engine.createIndexes([indexSpec("a_1", [("a", 1)])], on: c)
        try expect(again.numIndexesBefore == again.numIndexesAfter, "re-creating an index is a no-op")

        _ = try await engine.insert([["_id": 1, "a": 1]], into: c, ordered: true)
        let changeId = try await engine.update([try updateStatement(["_id": 1], ["$set": .document(["_id": 2])])], in: c, ordered: true)
        try expect(changeId.writeErrors.first?.error.code == 66, "changing _id with $set: \(changeId)")
        try expect(changeId.writeErrors.first?.error.message ==
                   "Performing an update on the path '_id' would modify the immutable field '_id'", "66 message")
        let replaceId = try await engine.update([try updateStatement(["_id": 1], ["_id": 3, "a": 2])], in: c, ordered: true)
        try expect(replaceId.writeErrors.first?.error.code == 66, "changing _id by replacement")
        let sameId = try await engine.update([try updateStatement(["_id": 1], ["_id": 1.0, "a": 2])], in: c, ordered: true)
        try expect(sameId.writeErrors.first?.error.code == 66, "replacing _id 1 with 1.0 changes its type")
        let arrayId = try await engine.update([try updateStatement(["_id": .array([1])], ["$set": .document(["a": 1])], upsert: true)],
                                              in: c, ordered: true)
        try expect(arrayId.writeErrors.first?.error.code != nil, "an upsert cannot take an array _id: \(arrayId)")
        let big = String(repeating: "y", count: 9 * 1024 * 1024)
        let tooBig = try await engine.update([try updateStatement(["_id": 1], ["$set": .document(["p": .string(big), "q": .string(big)])])],
                                             in: c, ordered: true)
        try expect(tooBig.writeErrors.first?.error.code == 10334, "an update past 16 MiB: \(tooBig.writeErrors.first?.error.code ?? 0)")
        try expect(try await findAll(engine, c) == [["_id": 1, "a": 1]], "failed updates changed nothing")
    }
}
