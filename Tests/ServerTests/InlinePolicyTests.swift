import BSON
import Commands
import Server
import Testing

/// Which requests the connection answers on its event loop: only those whose work is bounded
/// whatever the data (docs/performance.md, "No thread hops").
@Suite struct InlinePolicyTests {
    let policy = InlinePolicy()

    func place(_ body: BSONDocument, bytes: Int = 200, sequences: [String: [BSONDocument]] = [:]) throws -> InlinePolicy.Placement {
        var full = body
        full.append("$db", .string("db"))
        return policy.placement(of: try CommandRequest(body: full, sequences: sequences, database: "db"), requestBytes: bytes)
    }

    @Test func constantWorkCommandsRunInline() throws {
        for name in ["hello", "isMaster", "ping", "buildInfo", "endSessions", "killCursors"] {
            #expect(try place([name: .int32(1)]) == .inline, "\(name)")
        }
    }

    @Test func smallInsertsRunInlineLargeOnesOnTheExecutor() throws {
        let doc: BSONDocument = ["_id": .int32(1), "x": "y"]
        #expect(try place(["insert": "c"], sequences: ["documents": [doc]]) == .inline)
        // One default-size GridFS chunk per insert (libmongoc, mongofiles): 255 KiB and its envelope.
        #expect(try place(["insert": "fs.chunks"], bytes: 255 * 1024 + 200) == .inline)
        #expect(try place(["insert": "c"], bytes: 512 * 1024) == .inline)
        #expect(try place(["insert": "c"], bytes: 512 * 1024 + 1) == .executor)
        var readOnly = InlinePolicy()
        readOnly.allowsWrites = false
        let request = try CommandRequest(body: ["insert": "c", "$db": "db"], database: "db")
        #expect(readOnly.placement(of: request, requestBytes: 100) == .executor)
    }

    @Test func pointLookupsOnIdRunInline() throws {
        #expect(try place(["find": "fs.files", "filter": .document(["_id": .objectId(ObjectId())]), "limit": .int32(1), "singleBatch": true]) == .inline)
        #expect(try place(["find": "c", "filter": .document(["_id": .int32(7)]), "sort": .document(["x": .int32(1)])]) == .inline)
        // Operators, arrays and documents are not a single key.
        #expect(try place(["find": "c", "filter": .document(["_id": .document(["$gt": .int32(7)])])]) == .executor)
        #expect(try place(["find": "c", "filter": .document(["_id": .array([.int32(1)])])]) == .executor)
        #expect(try place(["find": "c", "filter": .document(["_id": .int32(7), "x": .int32(1)])]) == .executor)
    }

    @Test func gridFSChunkLookupsRunInline() throws {
        let id = BSONValue.objectId(ObjectId())
        #expect(try place(["find": "fs.chunks", "filter": .document(["files_id": id]), "sort": .document(["n": .int32(1)])]) == .inline)
        #expect(try place(["find": "fs.chunks", "filter": .document(["files_id": id, "n": .document(["$gte": .int32(3)])]), "sort": .document(["n": .int32(1)])]) == .inline)
        #expect(try place(["find": "fs.chunks", "filter": .document(["files_id": id, "n": .int32(0)])]) == .inline)
        // Not the key's order, another field, a non-numeric bound, or not a chunks collection.
        #expect(try place(["find": "fs.chunks", "filter": .document(["files_id": id]), "sort": .document(["data": .int32(1)])]) == .executor)
        #expect(try place(["find": "fs.chunks", "filter": .document(["files_id": id, "data": .int32(1)])]) == .executor)
        #expect(try place(["find": "fs.chunks", "filter": .document(["files_id": id, "n": .document(["$in": .array([.int32(1)])])])]) == .executor)
        #expect(try place(["find": "fs.chunks", "filter": .document(["files_id": .document(["$gt": id])])]) == .executor)
        // pymongo 4's GridOut: files_id as {$eq: id}, sorted by n
        #expect(try place(["find": "fs.chunks", "filter": .document(["files_id": .document(["$eq": id])]), "sort": .document(["n": .int32(1)])]) == .inline)
        #expect(try place(["find": "fs.chunks", "filter": .document(["files_id": .document(["$eq": id]), "n": .document(["$gte": .int32(2)])])]) == .inline)
        #expect(try place(["find": "fs.chunks", "filter": .document(["files_id": .document(["$eq": id, "$ne": id])])]) == .executor)
        #expect(try place(["find": "fs.chunks", "filter": .document(["files_id": .document(["$eq": .array([id])])])]) == .executor)
        #expect(try place(["find": "fs.files", "filter": .document(["_id": .document(["$eq": id])])]) == .inline)
        #expect(try place(["find": "fs.files", "filter": .document(["_id": .document(["$eq": .document(["a": id])])])]) == .executor)
        #expect(try place(["find": "other", "filter": .document(["files_id": id])]) == .executor)
        #expect(try place(["find": ".chunks", "filter": .document(["files_id": id])]) == .executor)
    }

    @Test func unfilteredUnsortedFindsRunInlineScansAndSortsDoNot() throws {
        #expect(try place(["find": "fs.files"]) == .inline)
        #expect(try place(["find": "fs.files", "filter": .document(BSONDocument()), "limit": .int32(1), "projection": .document(["_id": .int32(1)])]) == .inline)
        #expect(try place(["find": "fs.files", "filter": .document(["filename": "a"])]) == .executor)
        #expect(try place(["find": "fs.files", "sort": .document(["uploadDate": .int32(-1)])]) == .executor)
        #expect(try place(["find": "fs.files", "skip": .int32(1000)]) == .executor)
        #expect(try place(["find": "fs.files", "skip": .int32(0)]) == .inline)
        #expect(try place(["find": "fs.files", "hint": .document(["_id": .int32(1)])]) == .executor)
        #expect(try place(["find": .int32(1)]) == .executor)
        // A client that names a batchSize gets it, so that find is not bounded by the inline cap.
        #expect(try place(["find": "fs.files", "batchSize": .int32(15)]) == .executor)
    }

    @Test func firstBatchCapOnlyWhereTheServerPicksTheSize() throws {
        func request(_ body: BSONDocument) throws -> CommandRequest { try CommandRequest(body: body, database: "db") }
        #expect(policy.firstBatchBytesLimit(for: try request(["find": "fs.files"])) == policy.firstBatchBytes)
        #expect(policy.firstBatchBytesLimit(for: try request(["find": "fs.chunks", "batchSize": .int32(5)])) == policy.firstBatchBytes)
        #expect(policy.firstBatchBytesLimit(for: try request(["find": "c", "batchSize": .int32(5)])) == nil)
        #expect(policy.firstBatchBytesLimit(for: try request(["insert": "c"])) == nil)
    }

    @Test func everythingElseRunsOnTheExecutor() throws {
        for body: BSONDocument in [
            ["getMore": .int64(1), "collection": "c"], ["aggregate": "c", "pipeline": .array([])],
            ["update": "c"], ["delete": "c"], ["count": "c"], ["createIndexes": "c"], ["dbStats": .int32(1)],
            ["saslStart": .int32(1)], ["compact": "c"],
        ] {
            #expect(try place(body) == .executor, "\(body)")
        }
        #expect(try place(["ping": .int32(1)], bytes: 512 * 1024 + 1) == .executor)
    }
}
