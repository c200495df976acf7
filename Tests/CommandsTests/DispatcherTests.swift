import BSON
import Foundation
import Logging
import MemoryStorage
import SQLiteStorage
import Storage
import Testing

@testable import Commands

/// The storage engines the command tests run against (the fixture is parameterised: data
/// tests take an engine argument and run once per engine).
enum TestEngine: String, CaseIterable, Sendable {
    case sqlite
    case memory

    /// One SQLite store in a temporary directory, shared by the tests of this target.
    private static let sqliteStorage: Task<SQLiteStorageEngine, any Error> = Task {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gridlite-commands-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return try await SQLiteStorageEngine.open(directory: dir.path, logger: Logger(label: "test"))
    }

    /// One in-memory store, shared likewise.
    private static let memoryStorage = MemoryStorageEngine()

    /// The shared engine of this kind.
    func storage() async throws -> any StorageEngine {
        switch self {
        case .sqlite: return try await Self.sqliteStorage.value
        case .memory: return Self.memoryStorage
        }
    }
}

/// A context for running handlers without a server.
func makeTestContext(connectionId: Int64 = 7, engine: TestEngine = .sqlite) async throws -> CommandContext {
    let env = ServerEnvironment(
        gridliteVersion: "test", argv: ["gridlite", "serve"], parsedOptions: ["net": .document(["port": .int32(1)])],
        storageEngineName: engine.rawValue)
    env.setListenPort(27017)
    return CommandContext(
        environment: env, connection: ConnectionInfo(id: connectionId, remoteAddress: "127.0.0.1:5000", localAddress: "127.0.0.1:27017"),
        logger: Logger(label: "test"), storage: try await engine.storage(), cursors: CursorRegistry())
}

func run(_ body: BSONDocument, db: String = "admin", context: CommandContext? = nil) async throws -> BSONDocument {
    let request = try CommandRequest(body: body, database: db)
    let ctx: CommandContext
    if let context { ctx = context } else { ctx = try await makeTestContext() }
    return await CommandDispatcher().dispatch(request, context: ctx)
}

@Suite struct DispatcherTests {
    @Test func tableIsSortedAndNamesAreUnique() {
        let canonical = CommandTable.all.map { $0.names[0] }
        #expect(canonical == canonical.sorted(), "CommandTable.all must stay sorted by canonical name")
        let every = CommandTable.all.flatMap { h in h.names }
        #expect(Set(every).count == every.count, "a command name is claimed twice")
    }

    @Test func unknownCommandIs59AndNamesIt() async throws {
        let reply = try await run(["frobnicate": .int32(1), "$db": "admin"])
        #expect(reply["ok"] == .double(0))
        #expect(reply["code"] == .int32(59))
        #expect(reply["codeName"] == .string("CommandNotFound"))
        #expect(reply["errmsg"]?.stringValue?.contains("frobnicate") == true)
    }

    @Test func emptyCommandIsAnError() {
        #expect(throws: CommandError.self) { try CommandRequest(body: BSONDocument(), database: "admin") }
    }

    @Test func okIsAppendedLast() async throws {
        let reply = try await run(["ping": .int32(1)])
        #expect(reply.keys == ["ok"])
        #expect(reply["ok"] == .double(1))
    }

    @Test func adminOnlyCommandsRefuseOtherDatabases() async throws {
        let reply = try await run(["getCmdLineOpts": .int32(1)], db: "test")
        #expect(reply["ok"] == .double(0))
        #expect(reply["code"] == .int32(13))
    }

    @Test func unimplementedFieldFailsLoudly() throws {
        let spec = ParameterSpec(optional: ["a"], unimplemented: ["collation"])
        let request = try CommandRequest(body: ["x": .int32(1), "collation": .document(["locale": "fr"])], database: "db")
        #expect(throws: CommandError.self) { try spec.check(request) }
        let ok = try CommandRequest(body: ["x": .int32(1), "collation": .null, "lsid": .document([:])], database: "db")
        try spec.check(ok)
    }

    @Test func strictSpecRejectsUnknownFields() throws {
        let spec = ParameterSpec(optional: ["a"], strict: true)
        let request = try CommandRequest(body: ["x": .int32(1), "bogus": .int32(1)], database: "db")
        do {
            try spec.check(request)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == 40415)
        }
    }

    @Test func missingRequiredField() throws {
        let spec = ParameterSpec(required: ["documents"])
        let request = try CommandRequest(body: ["insert": "c"], database: "db")
        do {
            try spec.check(request)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == 40414)
            #expect(error.message.contains("insert.documents"))
        }
    }
}
