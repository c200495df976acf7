import BSON
import Server
import Testing

/// Requests answered on the connection's event loop (``InlinePolicy``) give the same replies as on
/// the executor: small GridFS files, a chunks file larger than the inline caps (first batch capped,
/// reply assembled on the executor, the rest by getMore), writes, and a client-sized batch.
@Suite(.serialized) struct InlineRequestTests {
    static let db = "inlinetests"

    static func chunk(_ filesID: BSONValue, _ n: Int, bytes: Int) -> BSONDocument {
        var d: BSONDocument = ["_id": .objectId(ObjectId()), "files_id": filesID, "n": .int32(Int32(n))]
        d.appendBinary("data", subtype: 0, payload: (0..<bytes).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ n) })
        return d
    }

    /// Every chunk of `filesID` in `n` order, as pymongo's download reads them (find, then getMore).
    static func download(_ client: WireClient, _ filesID: BSONValue) async throws -> [BSONValue] {
        let first = try await client.command(
            ["find": "fs.chunks", "filter": .document(["files_id": filesID]), "sort": .document(["n": .int32(1)])], db: db)
        guard case .array(var docs)? = first?.value(atPath: "cursor.firstBatch"),
              case .int64(var id)? = first?.value(atPath: "cursor.id") else {
            Issue.record("no cursor in \(String(describing: first))")
            return []
        }
        while id != 0 {
            let next = try await client.command(["getMore": .int64(id), "collection": "fs.chunks"], db: db)
            guard case .array(let more)? = next?.value(atPath: "cursor.nextBatch"),
                  case .int64(let nextID)? = next?.value(atPath: "cursor.id") else {
                Issue.record("bad getMore reply \(String(describing: next))")
                return docs
            }
            docs += more
            id = nextID
        }
        return docs
    }

    @Test(arguments: [true, false]) func gridFSFilesReadTheSameInlineAndOnTheExecutor(inline: Bool) async throws {
        let server = try await TestServer.start(inline: inline ? InlinePolicy() : nil)
        let client = try await server.connect()
        let small: BSONValue = .objectId(ObjectId())
        let large: BSONValue = .objectId(ObjectId())
        let smallChunk = Self.chunk(small, 0, bytes: 10 * 1024)
        let smallInsert = try await client.command(["insert": "fs.chunks"], db: Self.db, sequences: [("documents", [smallChunk])])
        #expect(smallInsert?["n"] == .int32(1))
        let files: BSONDocument = ["_id": small, "length": .int64(10 * 1024), "chunkSize": .int32(261_120), "filename": "s"]
        #expect(try await client.command(["insert": "fs.files"], db: Self.db, sequences: [("documents", [files])])?["n"] == .int32(1))
        // 9 chunks of 255 KiB: more than the inline first batch (1 MiB) and reply (1 MiB) caps.
        let largeChunks = (0..<9).map { Self.chunk(large, $0, bytes: 261_120) }
        let largeInsert = try await client.command(["insert": "fs.chunks"], db: Self.db, sequences: [("documents", largeChunks)])
        #expect(largeInsert?["n"] == .int32(9))

        let found = try await client.command(
            ["find": "fs.files", "filter": .document(["_id": small]), "limit": .int32(1), "singleBatch": true], db: Self.db)
        #expect(found?.value(atPath: "cursor.firstBatch.0.filename") == "s")
        #expect(try await Self.download(client, small) == [.document(smallChunk)])
        #expect(try await Self.download(client, large) == largeChunks.map { .document($0) })

        // A listing without batchSize, and one with it (the client's size is kept).
        let listing = try await client.command(["find": "fs.files"], db: Self.db)
        #expect(listing?.value(atPath: "cursor.firstBatch.0._id") == small)
        let sized = try await client.command(["find": "fs.chunks", "batchSize": .int32(2)], db: Self.db)
        guard case .array(let two)? = sized?.value(atPath: "cursor.firstBatch") else {
            Issue.record("no firstBatch")
            return
        }
        #expect(two.count == 2)
        await client.close()
        try await server.stop()
    }
}
