import BSON
import Query
import Storage

extension StorageConformance {
    static let basicChecks: [ConformanceCheck] = [
        ConformanceCheck(name: "crud", run: crud),
        ConformanceCheck(name: "everyBSONTypeByteExact", run: everyBSONTypeByteExact),
        ConformanceCheck(name: "updatesAndUpserts", run: updatesAndUpserts),
        ConformanceCheck(name: "findAndModify", run: findAndModify),
        ConformanceCheck(name: "concurrentWriters", run: concurrentWriters),
        ConformanceCheck(name: "catalog", run: catalog),
    ]

    static func crud(_ engine: any StorageEngine) async throws {
        let c = ns(database("crud"), "c")
        let docs: [BSONDocument] = (0..<10).map { ["_id": .int32(Int32($0)), "x": .int32(Int32($0 % 3))] }
        let inserted = try await engine.insert(docs, into: c, ordered: true)
        try expect(inserted.inserted == 10 && inserted.writeErrors.isEmpty, "10 inserted: \(inserted)")
        try expect(try await findAll(engine, c).map(\.bytes) == docs.map(\.bytes), "documents come back in insertion order, byte-exact")
        try expect(ids(try await findAll(engine, c, ["x": 1])) == [1, 4, 7], "filter on x")
        try expect(try await engine.count(FindQuery(namespace: c, filter: try Filter(["x": 0]))) == 4, "count x=0")
        try expect(try await engine.count(FindQuery(namespace: c, filter: try Filter([:]), skip: 2, limit: 5)) == 5, "count with skip/limit")
        let updated = try await engine.update([try updateStatement(["x": 2], ["$set": .document(["y": true])], multi: true)], in: c, ordered: true)
        try expect(updated.matched == 3 && updated.modified == 3, "multi update: \(updated)")
        let deleted = try await engine.delete([DeleteStatement(filter: try Filter(["x": 0]), limit: 0),
                                               DeleteStatement(filter: try Filter(["x": 1]), limit: 1)], in: c, ordered: true)
        try expect(deleted.deleted == 5, "4 + 1 deleted: \(deleted)")
        try expect(ids(try await findAll(engine, c)) == [2, 4, 5, 7, 8], "what remains")
        try expect(try await findAll(engine, c, ["y": true]).count == 3, "updated documents kept")
        try expect(try await findAll(engine, ns(c.database, "missing")).isEmpty, "a missing collection is empty")
        try expect(try await engine.delete([DeleteStatement(filter: try Filter([:]), limit: 0)], in: ns(c.database, "missing"), ordered: true).deleted == 0,
                   "deleting from a missing collection")
    }

    /// One value of every BSON type, stored and read back byte for byte.
    static let everyType: BSONDocument = {
        var doc: BSONDocument = ["_id": .objectId(ObjectId())]
        doc.append("double", .double(-0.0))
        doc.append("nan", .double(.nan))
        doc.append("string", .string("héllo\u{0}x"))
        doc.append("document", .document(["a": .int32(1), "b": .document([:])]))
        doc.append("array", .array([.int32(1), .string("two"), .array([])]))
        doc.append("binary", .binary(BSONBinary(subtype: 0, data: [0, 1, 2, 255])))
        doc.append("uuid", .binary(BSONBinary(subtype: 4, data: Array(0..<16))))
        doc.append("userBinary", .binary(BSONBinary(subtype: 0x80, data: [])))
        doc.append("undefined", .undefined)
        doc.append("objectId", .objectId(ObjectId()))
        doc.append("bool", .bool(true))
        doc.append("datetime", .datetime(-62_135_596_800_000))
        doc.append("null", .null)
        doc.append("regex", .regex(BSONRegex(pattern: "^a.c$", options: "imx")))
        doc.append("dbPointer", .dbPointer(BSONDBPointer(ref: "db.c", id: ObjectId())))
        doc.append("javascript", .javascript("function () { return 1 }"))
        doc.append("symbol", .symbol("sym"))
        doc.append("codeWithScope", .javascriptWithScope(BSONCodeWithScope(code: "x", scope: ["x": .int32(1)])))
        doc.append("int32", .int32(.min))
        doc.append("timestamp", .timestamp(BSONTimestamp(time: 1, increment: 2)))
        doc.append("int64", .int64(.max))
        doc.append("decimal128", .decimal128(Decimal128(low: 1, high: 0x3040_0000_0000_0000)))
        doc.append("minKey", .minKey)
        doc.append("maxKey", .maxKey)
        return doc
    }()

    static func everyBSONTypeByteExact(_ engine: any StorageEngine) async throws {
        let db = database("types")
        // A plain collection and both GridFS layouts (which a backend may store differently).
        for collection in ["c", "fs.files", "fs.chunks"] {
            let c = ns(db, collection)
            let result = try await engine.insert([everyType], into: c, ordered: true)
            try expect(result.inserted == 1, "inserted into \(collection): \(result)")
            let back = try await findAll(engine, c)
            try expect(back.count == 1 && back[0].bytes == everyType.bytes, "\(collection): every BSON type comes back byte-exact")
            let byId = try await findAll(engine, c, ["_id": everyType["_id"] ?? .null])
            try expect(byId.first?.bytes == everyType.bytes, "\(collection): found by _id")
        }
    }

    static func updatesAndUpserts(_ engine: any StorageEngine) async throws {
        let c = ns(database("updates"), "c")
        _ = try await engine.insert([["_id": 1, "a": 1, "b": .document(["c": 1])]], into: c, ordered: true)
        var r = try await engine.update([try updateStatement(["_id": 1], ["$inc": .document(["a": 5]), "$set": .document(["b.d": "x"])])], in: c, ordered: true)
        try expect(r.matched == 1 && r.modified == 1, "operator update: \(r)")
        try expect(try await findAll(engine, c).first == ["_id": 1, "a": 6, "b": .document(["c": 1, "d": "x"])], "operator update result")
        r = try await engine.update([try updateStatement(["_id": 1], ["$set": .document(["a": 6])])], in: c, ordered: true)
        try expect(r.matched == 1 && r.modified == 0, "a no-op update matches without modifying: \(r)")
        // A replacement keeps _id, first.
        r = try await engine.update([try updateStatement(["a": 6], ["z": 1])], in: c, ordered: true)
        try expect(try await findAll(engine, c).first?.bytes == (["_id": 1, "z": 1] as BSONDocument).bytes, "replacement keeps _id first")
        // Upserts seed from the filter's equality fields; _id comes first.
        r = try await engine.update([try updateStatement(["k": "new", "n": .document(["$gt": 3])], ["$set": .document(["v": 1])], upsert: true)], in: c, ordered: true)
        try expect(r.upserted.count == 1 && r.upserted[0].index == 0 && r.matched == 0, "upsert reported: \(r)")
        let upserted = try await findAll(engine, c, ["k": "new"])
        try expect(upserted.count == 1 && upserted[0].keys == ["_id", "k", "v"], "upsert document: \(upserted)")
        try expect(upserted.first?["_id"] == r.upserted.first?.id, "upserted _id is reported")
        r = try await engine.update([try updateStatement(["_id": "given"], ["x": 1], upsert: true)], in: c, ordered: true)
        let given = try await findAll(engine, c, ["_id": "given"])
        try expect(r.upserted.first?.id == "given" && given.first == ["_id": "given", "x": 1], "replacement upsert takes _id from the filter")
        // An upsert into a collection that does not exist creates it.
        let fresh = ns(c.database, "fresh")
        r = try await engine.update([try updateStatement(["_id": 5], ["$setOnInsert": .document(["s": 1])], upsert: true)], in: fresh, ordered: true)
        try expect(try await findAll(engine, fresh) == [["_id": 5, "s": 1]], "upsert creates the collection")
        // An update without upsert on a missing collection does nothing.
        r = try await engine.update([try updateStatement([:], ["$set": .document(["a": 1])])], in: ns(c.database, "none"), ordered: true)
        let collections = try await engine.listCollections(in: c.database)
        try expect(r.matched == 0 && collections.count == 2, "no collection created without upsert")
        // Unordered: a failing statement does not stop the next.
        r = try await engine.update([try updateStatement(["_id": 1], ["$set": .document(["_id": 2])]),
                                     try updateStatement(["_id": 1], ["$set": .document(["later": true])])], in: c, ordered: false)
        try expect(r.writeErrors.count == 1 && r.writeErrors[0].error.code == 66 && r.modified == 1, "unordered update continues: \(r)")
    }

    static func findAndModify(_ engine: any StorageEngine) async throws {
        let c = ns(database("fam"), "c")
        _ = try await engine.insert((0..<5).map { ["_id": .int32(Int32($0)), "p": .int32(Int32(10 - $0))] }, into: c, ordered: true)
        // The first in sort order is the one modified.
        var r = try await engine.findAndModify(FindAndModifyOperation(
            filter: try Filter([:]), sort: try SortSpec(["p": 1]), remove: false, update: try UpdateSpec(["$inc": .document(["p": 100])]),
            returnNew: true, upsert: false), in: c)
        try expect(r.value == ["_id": 4, "p": 106] && r.updatedExisting && r.n == 1, "sorted findAndModify returns the new document: \(r)")
        r = try await engine.findAndModify(FindAndModifyOperation(
            filter: try Filter(["_id": 0]), sort: nil, remove: false, update: try UpdateSpec(["$set": .document(["q": 1])]), returnNew: false, upsert: false), in: c)
        try expect(r.value == ["_id": 0, "p": 10], "returns the old document")
        r = try await engine.findAndModify(FindAndModifyOperation(
            filter: try Filter(["p": .document(["$gt": 6])]), sort: try SortSpec(["p": -1]), remove: true, update: nil, returnNew: false, upsert: false), in: c)
        try expect(r.value?["_id"] == 4, "remove takes the first in sort order: \(r)")
        try expect(try await engine.count(FindQuery(namespace: c, filter: try Filter([:]))) == 4, "removed")
        r = try await engine.findAndModify(FindAndModifyOperation(
            filter: try Filter(["_id": 42]), sort: nil, remove: false, update: try UpdateSpec(["$set": .document(["u": 1])]), returnNew: true, upsert: true), in: c)
        try expect(r.value == ["_id": 42, "u": 1] && r.upsertedId == 42 && !r.updatedExisting, "upsert: \(r)")
        r = try await engine.findAndModify(FindAndModifyOperation(
            filter: try Filter(["_id": 43]), sort: nil, remove: false, update: try UpdateSpec(["$set": .document(["u": 1])]), returnNew: true, upsert: false), in: c)
        try expect(r.value == nil && r.n == 0, "no match, no upsert")
    }

    static func concurrentWriters(_ engine: any StorageEngine) async throws {
        let c = ns(database("concurrent"), "c")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    for i in 0..<25 {
                        let id = BSONValue.int32(Int32(writer * 1000 + i))
                        let r = try await engine.insert([["_id": id, "w": .int32(Int32(writer))]], into: c, ordered: true)
                        try expect(r.inserted == 1, "insert \(id)")
                        _ = try await engine.update([try updateStatement(["_id": "counter"], ["$inc": .document(["n": 1])], upsert: true)], in: c, ordered: true)
                        _ = try await engine.findAndModify(FindAndModifyOperation(
                            filter: try Filter(["_id": "fam"]), sort: nil, remove: false, update: try UpdateSpec(["$inc": .document(["n": 1])]),
                            returnNew: true, upsert: true), in: c)
                    }
                }
            }
            try await group.waitForAll()
        }
        try expect(try await engine.count(FindQuery(namespace: c, filter: try Filter(["w": .document(["$exists": true])]))) == 200, "every insert kept")
        try expect(try await findAll(engine, c, ["_id": "counter"]).first?["n"] == 200, "no lost $inc")
        try expect(try await findAll(engine, c, ["_id": "fam"]).first?["n"] == 200, "no lost findAndModify $inc")
    }

    static func catalog(_ engine: any StorageEngine) async throws {
        let db = database("catalog")
        try await engine.createCollection(ns(db, "a"), options: ["capped": false])
        _ = try await engine.insert([["_id": 1]], into: ns(db, "b"), ordered: true)
        let names = try await engine.listCollections(in: db).map(\.name).sorted()
        try expect(names == ["a", "b"], "collections: \(names)")
        try expect(try await engine.listCollections(in: db).first { $0.name == "a" }?.options == ["capped": false], "options kept")
        try expect(try await engine.listDatabases().contains { $0.name == db }, "database listed")
        try await engine.renameCollection(from: ns(db, "b"), to: ns(db, "c"), dropTarget: false)
        try expect(try await findAll(engine, ns(db, "c")) == [["_id": 1]], "renamed with its documents")
        try await engine.renameCollection(from: ns(db, "c"), to: ns(db, "a"), dropTarget: true)
        try expect(try await engine.listCollections(in: db).map(\.name) == ["a"], "dropTarget replaced a")
        try expect(try await engine.dropCollection(ns(db, "a")), "dropped")
        try expect(!(try await engine.dropCollection(ns(db, "a"))), "dropping twice says false")
        _ = try await engine.insert([["_id": 1]], into: ns(db, "d"), ordered: true)
        try await engine.dropDatabase(db)
        try expect(try await engine.listCollections(in: db).isEmpty, "database dropped")
        try expect(!(try await engine.listDatabases().contains { $0.name == db }), "dropped database not listed")
    }
}
