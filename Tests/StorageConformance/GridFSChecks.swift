import BSON
import Query
import Storage

extension StorageConformance {
    static let gridFSChecks: [ConformanceCheck] = [
        ConformanceCheck(name: "gridFSLayoutRoundTrip", run: gridFSLayoutRoundTrip),
        ConformanceCheck(name: "payloadOver16MiB", run: payloadOver16MiB),
    ]

    /// Deterministic bytes.
    static func payload(_ count: Int, seed: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
    }

    static func chunk(_ filesId: BSONValue, _ n: Int, _ data: [UInt8]) -> BSONDocument {
        var doc: BSONDocument = ["_id": .objectId(ObjectId()), "files_id": filesId, "n": .int32(Int32(n))]
        doc.appendBinary("data", subtype: 0, payload: data)
        return doc
    }

    static func gridFSLayoutRoundTrip(_ engine: any StorageEngine) async throws {
        let db = database("gridfs")
        let files = ns(db, "fs.files")
        let chunks = ns(db, "fs.chunks")
        // What drivers create before the first upload.
        _ = try await engine.createIndexes([indexSpec("filename_1_uploadDate_1", [("filename", 1), ("uploadDate", 1)])], on: files)
        _ = try await engine.createIndexes([indexSpec("files_id_1_n_1", [("files_id", 1), ("n", 1)], unique: true)], on: chunks)
        let chunkSize = 261_120
        var stored: [BSONValue: [BSONDocument]] = [:]
        // Files of 0 bytes, tiny, exactly one chunk, and several chunks with a short last one.
        for (i, length) in [0, 10, chunkSize, 3 * chunkSize + 17].enumerated() {
            let id = BSONValue.objectId(ObjectId())
            let bytes = payload(length, seed: UInt8(i))
            let docs = stride(from: 0, to: length, by: chunkSize).enumerated().map { n, start in
                chunk(id, n, Array(bytes[start..<min(start + chunkSize, length)]))
            }
            if !docs.isEmpty { _ = try await engine.insert(docs, into: chunks, ordered: true) }
            let file: BSONDocument = ["_id": id, "length": .int64(Int64(length)), "chunkSize": .int32(Int32(chunkSize)),
                                      "uploadDate": .datetime(1_700_000_000_000 + Int64(i)), "filename": .string("f\(i)")]
            _ = try await engine.insert([file], into: files, ordered: true)
            stored[id] = docs
        }
        for (id, docs) in stored {
            let back = try await findAll(engine, chunks, ["files_id": id], sort: ["n": 1], batch: 2)
            try expect(back.map(\.bytes) == docs.map(\.bytes), "chunks of \(id) come back byte-exact, in n order")
            if docs.count >= 4 {
                let middle = try await findAll(engine, chunks, ["files_id": id, "n": .document(["$gte": 1, "$lt": 3])], sort: ["n": 1])
                try expect(middle.map(\.bytes) == docs[1..<3].map(\.bytes), "an n range reads chunks 1 and 2")
                let reverse = try await findAll(engine, chunks, ["files_id": id], sort: ["n": -1], limit: 2)
                try expect(reverse.map(\.bytes) == docs.reversed().prefix(2).map(\.bytes), "last chunks first")
            }
        }
        let byName = try await findAll(engine, files, ["filename": "f3"], sort: ["uploadDate": -1], limit: 1)
        try expect(byName.first?["length"] == .int64(Int64(3 * chunkSize + 17)), "files by filename, newest first")
        // The unique (files_id, n) index refuses a second chunk n.
        guard let (someId, someChunks) = stored.first(where: { !$0.value.isEmpty }) else { return }
        let again = try await engine.insert([chunk(someId, 0, [1, 2, 3])], into: chunks, ordered: true)
        try expect(again.writeErrors.first?.error.code == 11000 && again.writeErrors.first?.keyPattern == ["files_id": 1, "n": 1],
                   "duplicate chunk: \(again)")
        // A chunk rewritten in place keeps its bytes exact.
        var replacement: BSONDocument = ["files_id": someId, "n": 0]
        replacement.appendBinary("data", subtype: 0, payload: payload(100, seed: 99))
        let u = try await engine.update([UpdateStatement(filter: try Filter(["_id": someChunks[0]["_id"] ?? .null]),
                                                         update: try UpdateSpec(replacement), multi: false, upsert: false)],
                                        in: chunks, ordered: true)
        try expect(u.modified == 1, "chunk replaced")
        let rewritten = try await findAll(engine, chunks, ["files_id": someId, "n": 0])
        try expect(rewritten.first?["data"] == replacement["data"], "replaced chunk data")
        // Deleting a file's chunks.
        let d = try await engine.delete([DeleteStatement(filter: try Filter(["files_id": someId]), limit: 0)], in: chunks, ordered: true)
        try expect(d.deleted == someChunks.count, "chunks deleted")
        try expect(try await findAll(engine, chunks, ["files_id": someId]).isEmpty, "none left")
        try expect(try await engine.validate(files, full: true).errors.isEmpty, "files validate")
        let indexes = try await engine.listIndexes(chunks).map(\.name)
        try expect(indexes == ["_id_", "files_id_1_n_1"], "chunk indexes: \(indexes)")
    }

    static func payloadOver16MiB(_ engine: any StorageEngine) async throws {
        let chunks = ns(database("big"), "fs.chunks")
        let id = BSONValue.objectId(ObjectId())
        let chunkSize = 255 * 1024
        let count = 70  // 17.4 MiB
        var expected: [UInt8] = []
        for batch in stride(from: 0, to: count, by: 10) {
            let docs = (batch..<min(batch + 10, count)).map { n in chunk(id, n, payload(chunkSize, seed: UInt8(n))) }
            for doc in docs { if case .binary(let b)? = doc["data"] { expected += b.data } }
            let r = try await engine.insert(docs, into: chunks, ordered: true)
            try expect(r.inserted == docs.count, "inserted chunks \(batch)")
        }
        let query = FindQuery(namespace: chunks, filter: try Filter(["files_id": id]), sort: try SortSpec(["n": 1]))
        let cursor = try await engine.find(query)
        var bytes: [UInt8] = []
        var batches = 0
        var n: Int32 = 0
        while true {
            let docs = try await cursor.nextBatch(maxCount: 1000, maxBytes: 16 * 1024 * 1024)
            if docs.isEmpty { break }
            batches += 1
            try expect(docs.reduce(0) { $0 + $1.bytes.count } <= 16 * 1024 * 1024, "a batch stays within its byte budget")
            for doc in docs {
                try expect(doc["n"] == .int32(n), "chunk \(n) in order")
                n += 1
                if case .binary(let b)? = doc["data"] { bytes += b.data }
            }
        }
        try expect(batches >= 2, "more than 16 MiB takes several batches (\(batches))")
        try expect(bytes.count == expected.count && bytes == expected, "17 MiB payload byte-exact")
    }
}
