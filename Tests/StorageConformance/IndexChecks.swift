import BSON
import Query
import Storage

extension StorageConformance {
    static let indexChecks: [ConformanceCheck] = [
        ConformanceCheck(name: "keyOrderingAcrossTypes", run: keyOrderingAcrossTypes),
        ConformanceCheck(name: "uniqueIndexes", run: uniqueIndexes),
        ConformanceCheck(name: "cursorsResumeAcrossBatches", run: cursorsResumeAcrossBatches),
        ConformanceCheck(name: "blockingSortMemoryLimit", run: blockingSortMemoryLimit),
    ]

    /// Values of different types in MongoDB's sort order (minKey < null < numbers < strings <
    /// objects < binary < ObjectId < bool < date < timestamp < regex < maxKey).
    static let orderedValues: [BSONValue] = [
        .minKey, .null, .int32(-5), .double(1.5), .int64(2), .int32(3), .double(1e300),
        .string(""), .string("a"), .string("b"), .document(["a": 1]), .document(["b": 0]),
        .binary(BSONBinary(subtype: 0, data: [1])), .objectId(ObjectId(hex: "000000000000000000000001") ?? ObjectId()),
        .bool(false), .bool(true), .datetime(-1), .datetime(5), .timestamp(BSONTimestamp(time: 1, increment: 0)),
        .regex(BSONRegex(pattern: "a")), .maxKey,
    ]

    static func keyOrderingAcrossTypes(_ engine: any StorageEngine) async throws {
        let db = database("ordering")
        let plain = ns(db, "plain")
        let indexed = ns(db, "indexed")
        _ = try await engine.createIndexes([indexSpec("v_1", [("v", 1)])], on: indexed)
        // Inserted in a scrambled order.
        let order = orderedValues.indices.map { ($0 * 5) % orderedValues.count }
        let docs: [BSONDocument] = order.map { ["_id": .int32(Int32($0)), "v": orderedValues[$0]] }
        for c in [plain, indexed] { _ = try await engine.insert(docs, into: c, ordered: true) }
        let expected = orderedValues.indices.map { BSONValue.int32(Int32($0)) }
        for c in [plain, indexed] {
            let ascending = ids(try await findAll(engine, c, sort: ["v": 1]))
            try expect(ascending == expected, "\(c.collection): ascending order across types: \(ascending)")
            try expect(ids(try await findAll(engine, c, sort: ["v": -1])) == expected.reversed(), "\(c.collection): descending order")
            // Numbers of every type compare by value, whichever way the range is answered.
            let numbers = try await findAll(engine, c, ["v": .document(["$gte": .double(-5), "$lt": .int64(3)])], sort: ["v": 1])
            try expect(ids(numbers) == [2, 3, 4], "\(c.collection): numeric range across types: \(ids(numbers))")
            let strings = try await findAll(engine, c, ["v": .document(["$gt": ""])], sort: ["v": 1], batch: 1)
            try expect(ids(strings) == [8, 9], "\(c.collection): $gt stays within strings (type bracketing)")
        }
        let hinted = try await findAll(engine, indexed, ["v": .document(["$gte": .minKey])], hint: .name("v_1"))
        try expect(ids(hinted) == expected, "an index scan yields keys in order")
    }

    static func uniqueIndexes(_ engine: any StorageEngine) async throws {
        let c = ns(database("unique"), "c")
        let created = try await engine.createIndexes([indexSpec("a_1", [("a", 1)], unique: true)], on: c)
        try expect(created.createdCollectionAutomatically && created.numIndexesBefore == 1 && created.numIndexesAfter == 2, "\(created)")
        var r = try await engine.insert([["_id": 1, "a": 1], ["_id": 2, "a": 1], ["_id": 3, "a": 3]], into: c, ordered: true)
        try expect(r.inserted == 1 && r.writeErrors.count == 1, "ordered insert stops at the duplicate: \(r)")
        let dup = r.writeErrors[0]
        try expect(dup.index == 1 && dup.error.code == 11000 && dup.error.codeName == "DuplicateKey", "11000 at index 1")
        try expect(dup.error.message == "E11000 duplicate key error collection: \(c) index: a_1 dup key: { a: 1 }", dup.error.message)
        try expect(dup.keyPattern == ["a": 1] && dup.keyValue == ["a": 1], "keyPattern/keyValue")
        r = try await engine.insert([["_id": 3, "a": 3], ["_id": 1, "a": 9], ["_id": 4, "a": 3], ["_id": 5, "a": 5]], into: c, ordered: false)
        try expect(r.inserted == 2 && r.writeErrors.map(\.index) == [1, 2], "unordered insert goes on: \(r)")
        try expect(r.writeErrors[0].keyPattern == ["_id": 1] && r.writeErrors[0].keyValue == ["_id": 1], "the _id index reports itself")
        try expect(r.writeErrors[0].error.message.contains("index: _id_ dup key: { _id: 1 }"), r.writeErrors[0].error.message)
        // Updates and findAndModify report the updated document's key.
        let u = try await engine.update([try updateStatement(["_id": 5], ["$set": .document(["a": 3])])], in: c, ordered: true)
        try expect(u.writeErrors.first?.error.code == 11000 && u.writeErrors.first?.keyValue == ["a": 3] && u.modified == 0, "update dup: \(u)")
        try await expectError(11000) {
            _ = try await engine.findAndModify(FindAndModifyOperation(
                filter: try Filter(["_id": 5]), sort: nil, remove: false, update: try UpdateSpec(["a": 1]), returnNew: true, upsert: false), in: c)
        }
        let m = try await engine.update([try updateStatement([:], ["$set": .document(["a": 7])], multi: true)], in: c, ordered: true)
        try expect(m.writeErrors.first?.error.code == 11000, "multi update making duplicates fails")
        try expect(try await findAll(engine, c, sort: ["_id": 1]) == [["_id": 1, "a": 1], ["_id": 3, "a": 3], ["_id": 5, "a": 5]],
                   "failed writes leave nothing behind")
        // Missing fields index as null: two documents without `a` collide.
        r = try await engine.insert([["_id": 10], ["_id": 11]], into: c, ordered: true)
        try expect(r.inserted == 1 && r.writeErrors.first?.keyValue == ["a": .null], "missing field is null in a unique index: \(r)")
        // A unique index cannot be built over duplicates.
        _ = try await engine.insert([["_id": 20, "b": 1], ["_id": 21, "b": 1]], into: c, ordered: true)
        try await expectError(11000) { _ = try await engine.createIndexes([indexSpec("b_1", [("b", 1)], unique: true)], on: c) }
        try expect(try await engine.listIndexes(c).map(\.name) == ["_id_", "a_1"], "failed build adds no index")
        // Compound unique: only the whole key must be unique.
        _ = try await engine.createIndexes([indexSpec("x_1_y_1", [("x", 1), ("y", 1)], unique: true)], on: ns(c.database, "d"))
        r = try await engine.insert([["_id": 1, "x": 1, "y": 1], ["_id": 2, "x": 1, "y": 2], ["_id": 3, "x": 1, "y": 1]],
                                    into: ns(c.database, "d"), ordered: false)
        try expect(r.inserted == 2 && r.writeErrors.first?.keyValue == ["x": 1, "y": 1], "compound unique: \(r)")
    }

    static func cursorsResumeAcrossBatches(_ engine: any StorageEngine) async throws {
        let c = ns(database("cursors"), "c")
        _ = try await engine.createIndexes([indexSpec("g_1", [("g", 1)])], on: c)
        let docs: [BSONDocument] = (0..<300).map { ["_id": .int32(Int32($0)), "g": .int32(Int32($0 % 7))] }
        _ = try await engine.insert(docs, into: c, ordered: true)
        try expect(ids(try await findAll(engine, c, batch: 7)) == ids(docs), "collection scan in batches of 7")
        // A multikey document matches a range through several keys but comes back once.
        _ = try await engine.insert([["_id": 999, "g": .array([2, 3, 4])]], into: c, ordered: true)
        let multikey = try await findAll(engine, c, ["g": .document(["$gte": 2, "$lt": 5])], batch: 3)
        try expect(multikey.filter { $0["_id"] == 999 }.count == 1, "multikey document once")
        _ = try await engine.delete([DeleteStatement(filter: try Filter(["_id": 999]), limit: 1)], in: c, ordered: true)
        let inRange = docs.filter { ($0["g"]?.intValue ?? 0) >= 2 && ($0["g"]?.intValue ?? 0) < 5 }
        let byG = inRange.sorted { ($0["g"]?.intValue ?? 0, $0["_id"]?.intValue ?? 0) < ($1["g"]?.intValue ?? 0, $1["_id"]?.intValue ?? 0) }
        let range: BSONDocument = ["g": .document(["$gte": 2, "$lt": 5])]
        try expect(ids(try await findAll(engine, c, range, sort: ["g": 1], batch: 10)) == ids(byG), "index range in batches, (key, insertion) order")
        let reversed = try await findAll(engine, c, range, sort: ["g": -1], batch: 9)
        let gs = reversed.map { $0["g"]?.intValue ?? 0 }
        try expect(gs == gs.sorted(by: >) && Set(ids(reversed)) == Set(ids(byG)) && reversed.count == byG.count,
                   "descending range in batches")
        let window = try await findAll(engine, c, range, sort: ["g": 1], skip: 5, limit: 50, batch: 8)
        try expect(ids(window) == Array(ids(byG).dropFirst(5).prefix(50)), "skip and limit across batches")
        // Writes between batches: no document twice, none of the untouched ones lost.
        let cursor = try await engine.find(FindQuery(namespace: c, filter: try Filter(range), sort: try SortSpec(["g": 1])))
        var seen = try await cursor.nextBatch(maxCount: 20, maxBytes: 1 << 20)
        _ = try await engine.insert([["_id": 1000, "g": 3], ["_id": 1001, "g": 100]], into: c, ordered: true)
        _ = try await engine.update([try updateStatement(["_id": 2], ["$set": .document(["moved": true])])], in: c, ordered: true)
        while true {
            let batch = try await cursor.nextBatch(maxCount: 20, maxBytes: 1 << 20)
            if batch.isEmpty { break }
            seen += batch
        }
        try expect(Set(ids(seen)).count == seen.count, "no document twice")
        try expect(Set(ids(byG)).isSubset(of: Set(ids(seen))), "every document present throughout is returned")
        try expect(await cursor.isExhausted, "exhausted")
        // A cursor over a dropped collection fails with 175 on its next batch (or ends).
        let doomed = try await engine.find(FindQuery(namespace: c, filter: try Filter([:])))
        _ = try await doomed.nextBatch(maxCount: 5, maxBytes: 1 << 20)
        _ = try await engine.dropCollection(c)
        do {
            let rest = try await doomed.nextBatch(maxCount: 5, maxBytes: 1 << 20)
            try expect(rest.isEmpty, "a dropped collection yields nothing more")
        } catch let e as MongoError {
            try expect(e.code == 175, "dropped collection: QueryPlanKilled, got \(e)")
        }
        await doomed.close()
        await doomed.close()
    }

    static func blockingSortMemoryLimit(_ engine: any StorageEngine) async throws {
        let c = ns(database("sortlimit"), "c")
        let filler = String(repeating: "x", count: 1000)
        let docs: [BSONDocument] = (0..<50).map { ["_id": .int32(Int32($0)), "v": .int32(Int32(($0 * 17) % 50)), "pad": .string(filler)] }
        _ = try await engine.insert(docs, into: c, ordered: true)
        let error = try await expectError(292) { _ = try await findAll(engine, c, sort: ["v": 1], sortMemoryLimit: 10_000) }
        try expect(error.codeName == "QueryExceededMemoryLimitNoDiskUseAllowed", error.codeName)
        try expect(error.message == "Sort exceeded memory limit of 10000 bytes, but did not opt in to external sorting.", error.message)
        // A top-k sort holds only skip + limit documents.
        let top = try await findAll(engine, c, sort: ["v": 1], skip: 2, limit: 3, sortMemoryLimit: 10_000)
        try expect(top.map { $0["v"] ?? .null } == [2, 3, 4], "top-k under the limit: \(top.map { $0["v"] ?? .null })")
        // An index that gives the order needs no blocking sort.
        _ = try await engine.createIndexes([indexSpec("v_1", [("v", 1)])], on: c)
        let indexed = try await findAll(engine, c, sort: ["v": 1], sortMemoryLimit: 10_000)
        try expect(indexed.map { $0["v"] ?? .null } == (0..<50).map { .int32(Int32($0)) }, "index-ordered sort has no memory bound")
        // Ties keep insertion order (a stable sort).
        let ties = try await findAll(engine, c, sort: ["pad": 1])
        try expect(ids(ties) == ids(docs), "stable sort")
    }
}
