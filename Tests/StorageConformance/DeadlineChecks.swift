import BSON
import Query
import Storage

extension StorageConformance {
    static let deadlineChecks: [ConformanceCheck] = [
        ConformanceCheck(name: "expiredDeadlineFailsReadsAndWritesWholly", run: expiredDeadline),
        ConformanceCheck(name: "deadlinePassingMidBatchRollsTheBatchBack", run: deadlineMidBatch),
    ]

    /// An operation whose deadline (maxTimeMS) has passed: every read and write is 50
    /// MaxTimeMSExpired, and the writes leave nothing behind.
    static func expiredDeadline(_ engine: any StorageEngine) async throws {
        let db = database("deadline")
        let c = ns(db, "c")
        _ = try await engine.insert((0..<100).map { ["_id": .int32(Int32($0)), "a": .int32(Int32($0 % 7))] }, into: c, ordered: true)
        let expired = OperationDeadline(milliseconds: 1, from: .now - .seconds(1))
        try await OperationDeadline.$current.withValue(expired) {
            try await expectError(50) { _ = try await findAll(engine, c, ["a": 3]) }
            try await expectError(50) { _ = try await engine.count(FindQuery(namespace: c, filter: try Filter(["a": 3]))) }
            try await expectError(50) { _ = try await engine.insert([["_id": 1000]], into: c, ordered: false) }
            try await expectError(50) {
                _ = try await engine.update([try updateStatement([:], ["$set": .document(["b": 1])], multi: true)], in: c, ordered: true)
            }
            try await expectError(50) { _ = try await engine.delete([DeleteStatement(filter: try Filter([:]), limit: 0)], in: c, ordered: true) }
            try await expectError(50) {
                _ = try await engine.findAndModify(FindAndModifyOperation(
                    filter: try Filter(["_id": 1]), sort: nil, remove: true, update: nil, returnNew: false, upsert: false), in: c)
            }
        }
        let after = try await findAll(engine, c)
        try expect(after.count == 100, "expired writes changed the collection: \(after.count) documents")
        try expect(after.allSatisfy { $0["b"] == nil }, "an expired update was applied")
    }

    /// A batch whose deadline passes while it is being written fails as a whole: no prefix of it
    /// stays (the write rules check before every document; the engine rolls the transaction back).
    static func deadlineMidBatch(_ engine: any StorageEngine) async throws {
        let db = database("deadlineBatch")
        let c = ns(db, "c")
        let payload = String(repeating: "x", count: 256)
        let docs: [BSONDocument] = (0..<50_000).map { ["_id": .int32(Int32($0)), "p": .string(payload)] }
        let deadline = OperationDeadline(milliseconds: 20)
        do {
            _ = try await OperationDeadline.$current.withValue(deadline) {
                try await engine.insert(docs, into: c, ordered: true)
            }
            // 50,000 documents (13 MB) do not fit in 20 ms on any engine here (the memory engine needs ~0.3 s).
            throw ConformanceFailure(message: "a 50,000-document insert finished within 20 ms", line: #line)
        } catch let e as MongoError {
            try expect(e.code == 50, "expected 50 MaxTimeMSExpired, got \(e)")
        }
        let count = try await engine.count(FindQuery(namespace: c, filter: try Filter([:])))
        try expect(count == 0, "an expired batch left \(count) documents")
    }
}
