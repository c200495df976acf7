import BSON
import Foundation
import Logging
import MetricsTestKit
import Storage
import Testing

@testable import Commands

/// Deferred cursor batches (GridFS chunks on SQLite): with ``CommandRequest/allowsDeferredBatches``
/// `find` and `getMore` on a chunks collection return the batch beside the reply; spliced in, the
/// reply is byte for byte the reply without deferral, and the observation point still counts the
/// documents and the payload bytes.
@Suite struct DeferredReplyTests {
    func setUp() async throws -> (CommandDispatcher, CommandContext, TestMetrics, String) {
        let metrics = TestMetrics()
        let dispatcher = CommandDispatcher(observer: CommandObserver(factory: metrics))
        let env = ServerEnvironment(gridliteVersion: "test", argv: [], parsedOptions: [:], storageEngineName: "sqlite")
        let context = CommandContext(
            environment: env, connection: ConnectionInfo(id: 11, remoteAddress: "127.0.0.1:6001", localAddress: "127.0.0.1:27017"),
            logger: Logger(label: "test"), storage: try await TestEngine.sqlite.storage(), cursors: CursorRegistry())
        return (dispatcher, context, metrics, "deferred\(UInt32.random(in: 0...UInt32.max))")
    }

    static func chunks(_ count: Int, size: Int) -> BSONValue {
        .array((0..<count).map { n in
            var doc = BSONDocument()
            doc.append("_id", .objectId(ObjectId()))
            doc.append("files_id", .int32(1))
            doc.append("n", .int32(Int32(n)))
            doc.appendBinary("data", subtype: 0, payload: (0..<size).map { UInt8(truncatingIfNeeded: $0 &+ n) })
            return .document(doc)
        })
    }

    func execute(_ d: CommandDispatcher, _ body: BSONDocument, db: String, _ ctx: CommandContext, deferred: Bool) async throws -> CommandOutcome {
        var request = try CommandRequest(body: body, database: db)
        request.allowsDeferredBatches = deferred
        return await d.execute(request, context: ctx, wire: WireFacts(requestBytes: 100, replyFramingBytes: 21))
    }

    @Test func findAndGetMoreOnChunksDeferTheirBatchesAndSpliceToTheSameReply() async throws {
        let (d, ctx, metrics, db) = try await setUp()
        _ = try await execute(d, ["insert": "fs.chunks", "documents": Self.chunks(6, size: 3000)], db: db, ctx, deferred: false)
        var replies: [[UInt8]] = []
        var kinds: [Bool] = []
        for deferred in [false, true] {
            let find = try await execute(d, ["find": "fs.chunks", "filter": .document(["files_id": 1]), "sort": .document(["n": 1]), "batchSize": 4],
                                         db: db, ctx, deferred: deferred)
            kinds.append(find.deferredBatch != nil)
            let first = try find.fullReply()
            guard case .int64(let id)? = first.value(atPath: "cursor.id") else { Issue.record("no cursor"); return }
            let more = try await execute(d, ["getMore": .int64(id), "collection": "fs.chunks"], db: db, ctx, deferred: deferred)
            kinds.append(more.deferredBatch != nil)
            // The cursor ids differ between the two runs; compare the batches and the fields around them.
            let next = try more.fullReply()
            replies.append(BSONDocument([("b", first.value(atPath: "cursor.firstBatch") ?? .null), ("ns", first.value(atPath: "cursor.ns") ?? .null),
                                         ("ok", first["ok"] ?? .null), ("keys", .array(first.keys.map { .string($0) }))]).bytes)
            replies.append(BSONDocument([("b", next.value(atPath: "cursor.nextBatch") ?? .null), ("id", next.value(atPath: "cursor.id") ?? .null),
                                         ("ok", next["ok"] ?? .null), ("keys", .array(next.keys.map { .string($0) }))]).bytes)
            if deferred {
                let batch = try #require(find.deferredBatch)
                let splice = try #require(DeferredCursorReply(reply: find.reply, batch: batch))
                #expect(splice.byteCount == first.bytes.count)
                #expect(try splice.materialize().bytes == first.bytes)
            }
        }
        #expect(kinds == [false, false, true, true])
        #expect(replies[0] == replies[2] && replies[1] == replies[3])
        let returned = metrics.counterTotal(label: "gridlite_documents_returned_total", dimensions: [("command", "find")])
        #expect(returned == 8)
        let payload = metrics.counterTotal(label: "gridlite_gridfs_bytes_total", dimensions: [("front", "wire"), ("direction", "download")])
        #expect(payload == 2 * 6 * 3000)
    }

    @Test func aProjectionOrAnotherCollectionIsNotDeferred() async throws {
        let (d, ctx, _, db) = try await setUp()
        _ = try await execute(d, ["insert": "fs.chunks", "documents": Self.chunks(2, size: 2000)], db: db, ctx, deferred: false)
        _ = try await execute(d, ["insert": "fs.files", "documents": .array([.document(["_id": 1, "length": .int64(4000)])])], db: db, ctx, deferred: false)
        let projected = try await execute(d, ["find": "fs.chunks", "filter": .document(["files_id": 1]), "projection": .document(["n": 1])], db: db, ctx, deferred: true)
        #expect(projected.deferredBatch == nil)
        let files = try await execute(d, ["find": "fs.files", "filter": .document(["_id": 1])], db: db, ctx, deferred: true)
        #expect(files.deferredBatch == nil)
        // The in-process entry point always answers whole replies.
        let reply = await d.dispatch(try CommandRequest(body: ["find": "fs.chunks", "filter": .document(["files_id": 1])], database: db), context: ctx)
        #expect(DocumentCounts.batchSize(reply, "firstBatch") == 2)
    }
}
