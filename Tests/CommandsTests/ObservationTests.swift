import BSON
import Foundation
import Logging
import MetricsTestKit
import Synchronization
import Testing

@testable import Commands

/// The observation point: every command through the dispatcher is counted once, with its
/// documents, bytes and result, in swift-metrics and in serverStatus's counters.
@Suite struct ObservationTests {
    /// A dispatcher observed by a private metrics backend, and a context with fresh counters.
    func setUp(slow: Duration = .seconds(3600), logs: LogCapture? = nil) async throws
        -> (CommandDispatcher, CommandContext, TestMetrics, String)
    {
        let metrics = TestMetrics()
        let dispatcher = CommandDispatcher(observer: CommandObserver(factory: metrics))
        let env = ServerEnvironment(
            gridliteVersion: "test", argv: [], parsedOptions: [:], storageEngineName: "sqlite",
            slowOperationThreshold: slow)
        var logger = Logger(label: "test", factory: { _ in logs ?? LogCapture() })
        logger.logLevel = .info
        let context = CommandContext(
            environment: env, connection: ConnectionInfo(id: 9, remoteAddress: "127.0.0.1:6000", localAddress: "127.0.0.1:27017"),
            logger: logger, storage: try await TestEngine.sqlite.storage(), cursors: CursorRegistry())
        return (dispatcher, context, metrics, "observe\(UInt32.random(in: 0...UInt32.max))")
    }

    func call(_ d: CommandDispatcher, _ body: BSONDocument, db: String, _ ctx: CommandContext, wire: WireFacts = .inProcess) async throws -> BSONDocument {
        await d.execute(try CommandRequest(body: body, database: db), context: ctx, wire: wire).reply
    }

    static func docs(_ n: Int) -> BSONValue { .array((0..<n).map { .document(["_id": .int32(Int32($0)), "x": .int32(Int32($0))]) }) }

    @Test func findAndGetMoreAreCountedOnceAndDocumentsReturnedAreCounted() async throws {
        let (d, ctx, metrics, db) = try await setUp()
        _ = try await call(d, ["insert": "c", "documents": Self.docs(5)], db: db, ctx)
        let first = try await call(d, ["find": "c", "batchSize": 2], db: db, ctx)
        guard case .int64(let id)? = first.value(atPath: "cursor.id") else { Issue.record("no cursor"); return }
        _ = try await call(d, ["getMore": .int64(id), "collection": "c"], db: db, ctx)
        let c = ctx.environment.counters
        #expect(ServerCounters.read(c.queries) == 1)
        #expect(ServerCounters.read(c.getMores) == 1)
        #expect(ServerCounters.read(c.inserts) == 5)
        #expect(ServerCounters.read(c.commands) == 0)
        #expect(ServerCounters.read(c.documentsReturned) == 5)
        #expect(ServerCounters.read(c.documentsInserted) == 5)
        #expect(metrics.counterTotal(label: "gridlite_documents_returned_total", dimensions: [("command", "find")]) == 2)
        #expect(metrics.counterTotal(label: "gridlite_documents_returned_total", dimensions: [("command", "getMore")]) == 3)
        #expect(metrics.counterTotal(label: "gridlite_documents_written_total", dimensions: [("command", "insert")]) == 5)
        #expect(try metrics.expectCounter("gridlite_commands_total", [("command", "find"), ("result", "ok")]).totalValue == 1)
        #expect(try metrics.expectTimer("gridlite_command_duration", [("command", "getMore")]).values.count == 1)
    }

    @Test func writesCountStatementsAttemptedAsMongod() async throws {
        let (d, ctx, _, db) = try await setUp()
        let c = ctx.environment.counters
        _ = try await call(d, ["insert": "w", "documents": Self.docs(3)], db: db, ctx)
        // Ordered: stops at the duplicate (index 1): K successful + the failed attempt.
        let ordered = try await call(d, ["insert": "w", "documents": .array([
            .document(["_id": 10]), .document(["_id": 0]), .document(["_id": 11]),
        ])], db: db, ctx)
        #expect(ordered.value(atPath: "writeErrors.0.index") == .int32(1))
        #expect(ServerCounters.read(c.inserts) == 3 + 2)
        // Unordered: every statement counts, failed or not.
        _ = try await call(d, ["insert": "w", "ordered": false, "documents": .array([
            .document(["_id": 20]), .document(["_id": 0]), .document(["_id": 21]),
        ])], db: db, ctx)
        #expect(ServerCounters.read(c.inserts) == 3 + 2 + 3)
        #expect(ServerCounters.read(c.documentsInserted) == 3 + 1 + 2)
        _ = try await call(d, ["update": "w", "updates": .array([
            .document(["q": .document(["_id": 20]), "u": .document(["$set": .document(["y": 1])])]),
            .document(["q": .document(["_id": 99]), "u": .document(["$set": .document(["y": 1])]), "upsert": true]),
        ])], db: db, ctx)
        #expect(ServerCounters.read(c.updates) == 2)
        #expect(ServerCounters.read(c.documentsUpdated) == 1)
        _ = try await call(d, ["delete": "w", "deletes": .array([.document(["q": .document([:]), "limit": 0])])], db: db, ctx)
        #expect(ServerCounters.read(c.deletes) == 1)
        #expect(ServerCounters.read(c.documentsDeleted) == 3 + 1 + 2 + 1)
    }

    @Test func failuresAreCountedByCodeAndBytesComeFromTheWire() async throws {
        let (d, ctx, metrics, db) = try await setUp()
        let reply = try await call(d, ["frobnicate": 1], db: db, ctx, wire: WireFacts(requestBytes: 40, replyFramingBytes: 21))
        #expect(reply["code"] == .int32(59))
        #expect(ServerCounters.read(ctx.environment.counters.commands) == 1)
        #expect(try metrics.expectCounter("gridlite_commands_total", [("command", "unknown"), ("result", "error")]).totalValue == 1)
        #expect(try metrics.expectCounter("gridlite_command_errors_total", [("command", "unknown"), ("code", "59")]).totalValue == 1)
        #expect(metrics.counterTotal(label: "gridlite_command_request_bytes_total", dimensions: [("command", "unknown")]) == 40)
        #expect(metrics.counterTotal(label: "gridlite_command_reply_bytes_total", dimensions: [("command", "unknown")]) == Int64(reply.bytes.count + 21))
        _ = try await call(d, ["isMaster": 1], db: "admin", ctx)
        #expect(try metrics.expectCounter("gridlite_commands_total", [("command", "hello"), ("result", "ok")]).totalValue == 1)
    }

    @Test func slowCommandsAreLoggedWithNamespaceAndPlan() async throws {
        let logs = LogCapture()
        let (d, ctx, _, db) = try await setUp(slow: .zero, logs: logs)
        _ = try await call(d, ["insert": "s", "documents": Self.docs(3)], db: db, ctx)
        _ = try await call(d, ["find": "s", "filter": .document(["_id": 1])], db: db, ctx)
        _ = try await call(d, ["find": "s", "filter": .document(["x": 1])], db: db, ctx)
        _ = try await call(d, ["find": "missing", "filter": .document([:])], db: db, ctx)
        let slow = logs.entries.filter { $0.message == "Slow query" }
        #expect(slow.count == 4)
        #expect(slow.allSatisfy { $0.level == .info })
        let finds = slow.filter { $0.metadata["command"] == "find" }
        #expect(finds.map { $0.metadata["ns"] } == ["\(db).s", "\(db).s", "\(db).missing"])
        #expect(finds.map { $0.metadata["planSummary"] } == ["IXSCAN { _id: 1 }", "COLLSCAN", "EOF"])
        #expect(finds.first?.metadata["nreturned"] == "1")
        #expect(finds.first?.metadata["durationMillis"] != nil)
        #expect(slow.first?.metadata["ninserted"] == "3")
    }

    @Test func currentOpShowsItselfAndIdleConnectionsOnRequest() async throws {
        var (d, ctx, _, _) = try await setUp()
        let activity = ctx.register()
        var other = CommandContext(
            environment: ctx.environment, connection: ConnectionInfo(id: 10, remoteAddress: "127.0.0.1:6001", localAddress: "x"),
            logger: ctx.logger, storage: ctx.storage, cursors: ctx.cursors)
        let otherActivity = other.register()
        other.apply([try other.session.hello(client: SessionTests.client)])
        defer {
            ctx.environment.connections.close(activity)
            ctx.environment.connections.close(otherActivity)
        }
        let active = try await call(d, ["currentOp": 1], db: "admin", ctx)
        guard case .array(let ops)? = active["inprog"], ops.count == 1, case .document(let op) = ops[0] else {
            Issue.record("expected only the currentOp itself: \(active)")
            return
        }
        #expect(op["connectionId"] == .int64(9))
        #expect(op["client"] == .string("127.0.0.1:6000"))
        #expect(op["active"] == .bool(true))
        #expect(op["op"] == .string("command"))
        #expect(op["ns"] == .string("admin.$cmd"))
        #expect(op.value(atPath: "command.currentOp") == .int32(1))
        #expect(op["microsecs_running"]?.intValue.map { $0 >= 0 } == true)
        let all = try await call(d, ["currentOp": 1, "$all": true, "appName": "uploader"], db: "admin", ctx)
        guard case .array(let idle)? = all["inprog"], idle.count == 1, case .document(let entry) = idle[0] else {
            Issue.record("expected the idle connection: \(all)")
            return
        }
        #expect(entry["connectionId"] == .int64(10))
        #expect(entry["active"] == .bool(false))
        #expect(entry.value(atPath: "clientMetadata.driver.name") == .string("PyMongo"))
        let elsewhere = try await call(d, ["currentOp": 1], db: "test", ctx)
        #expect(elsewhere["code"] == .int32(13))
    }
}

/// A log handler that keeps what it is given.
final class LogCapture: LogHandler, Sendable {
    struct Entry: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    private let store = Mutex<[Entry]>([])
    var entries: [Entry] { store.withLock { $0 } }

    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        var flat: [String: String] = [:]
        for (k, v) in event.metadata ?? [:] { flat[k] = "\(v)" }
        store.withLock { $0.append(Entry(level: event.level, message: "\(event.message)", metadata: flat)) }
    }
}
