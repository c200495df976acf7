import BSON
import Testing

@testable import Commands

/// Data commands through the dispatcher, once per storage engine: the replies a client sees must
/// not depend on the engine.
@Suite struct DataCommandTests {
    func database(_ name: String) -> String { "cmd_\(name)_\(UInt32.random(in: 0...UInt32.max))" }

    @Test(arguments: TestEngine.allCases)
    func insertFindSortUpdateDelete(engine: TestEngine) async throws {
        let context = try await makeTestContext(engine: engine)
        let db = database("crud")
        let docs: [BSONValue] = (0..<5).map { .document(["_id": .int32(Int32($0)), "v": .int32(Int32((3 * $0) % 5))]) }
        let inserted = try await run(["insert": "c", "documents": .array(docs)], db: db, context: context)
        #expect(inserted["n"] == .int32(5) && inserted["ok"] == .double(1))
        let found = try await run(["find": "c", "sort": .document(["v": -1]), "projection": .document(["_id": 1])], db: db, context: context)
        #expect(found.value(atPath: "cursor.firstBatch") == .array([
            .document(["_id": 3]), .document(["_id": 1]), .document(["_id": 4]), .document(["_id": 2]), .document(["_id": 0]),
        ]))
        let updated = try await run(["update": "c", "updates": .array([
            .document(["q": .document(["v": .document(["$lt": 2])]), "u": .document(["$set": .document(["low": true])]), "multi": true]),
            .document(["q": .document(["_id": "new"]), "u": .document(["$inc": .document(["k": 1])]), "upsert": true]),
        ])], db: db, context: context)
        #expect(updated["n"] == .int32(3) && updated["nModified"] == .int32(2))
        #expect(updated["upserted"] == .array([.document(["index": .int32(1), "_id": "new"])]))
        let count = try await run(["count": "c", "query": .document(["low": true])], db: db, context: context)
        #expect(count["n"] == .int32(2))
        let deleted = try await run(["delete": "c", "deletes": .array([.document(["q": .document([:]), "limit": 0])])], db: db, context: context)
        #expect(deleted["n"] == .int32(6))
    }

    @Test(arguments: TestEngine.allCases)
    func duplicateKeyReply(engine: TestEngine) async throws {
        let context = try await makeTestContext(engine: engine)
        let db = database("dup")
        _ = try await run(["createIndexes": "c", "indexes": .array([.document(["key": .document(["a": 1]), "name": "a_1", "unique": true])])],
                          db: db, context: context)
        let reply = try await run(["insert": "c", "documents": .array([.document(["_id": 1, "a": "x"]), .document(["_id": 2, "a": "x"])])],
                                  db: db, context: context)
        #expect(reply["n"] == .int32(1))
        guard case .array(let errors)? = reply["writeErrors"], case .document(let e)? = errors.first else {
            Issue.record("no writeErrors: \(reply)")
            return
        }
        #expect(e["index"] == .int32(1) && e["code"] == .int32(11000) && e["codeName"] == "DuplicateKey")
        #expect(e["errmsg"] == .string("E11000 duplicate key error collection: \(db).c index: a_1 dup key: { a: \"x\" }"))
        #expect(e["keyPattern"] == .document(["a": 1]) && e["keyValue"] == .document(["a": "x"]))
        let fam = try await run(["findAndModify": "c", "query": .document(["_id": 1]), "update": .document(["$set": .document(["_id": 5])])],
                                db: db, context: context)
        #expect(fam["ok"] == .double(0) && fam["code"] == .int32(66))
    }

    @Test(arguments: TestEngine.allCases)
    func cursorAcrossGetMore(engine: TestEngine) async throws {
        let context = try await makeTestContext(engine: engine)
        let db = database("getmore")
        let docs: [BSONValue] = (0..<25).map { .document(["_id": .int32(Int32($0))]) }
        _ = try await run(["insert": "c", "documents": .array(docs)], db: db, context: context)
        let first = try await run(["find": "c", "batchSize": 10], db: db, context: context)
        guard case .int64(let id)? = first.value(atPath: "cursor.id"), id != 0 else {
            Issue.record("no cursor: \(first)")
            return
        }
        var all = first.value(atPath: "cursor.firstBatch")?.arrayValue ?? []
        while true {
            let more = try await run(["getMore": .int64(id), "collection": "c", "batchSize": 10], db: db, context: context)
            all += more.value(atPath: "cursor.nextBatch")?.arrayValue ?? []
            if more.value(atPath: "cursor.id") == .int64(0) { break }
        }
        #expect(all == docs)
    }
}
