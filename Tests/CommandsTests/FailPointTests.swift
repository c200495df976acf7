import BSON
import Foundation
import Logging
import Storage
import Testing

@testable import Commands

/// A context whose environment has test commands on (or off).
private func failPointContext(testCommands: Bool = true, connectionId: Int64 = 7) async throws -> CommandContext {
    let env = ServerEnvironment(
        gridliteVersion: "test", argv: ["gridlite", "serve"], parsedOptions: BSONDocument(),
        storageEngineName: "memory", testCommandsEnabled: testCommands)
    return CommandContext(
        environment: env, connection: ConnectionInfo(id: connectionId, remoteAddress: "127.0.0.1:5000", localAddress: "127.0.0.1:27017"),
        logger: Logger(label: "test"), storage: try await TestEngine.memory.storage(), cursors: CursorRegistry())
}

private func execute(_ body: BSONDocument, db: String = "admin", _ context: CommandContext) async throws -> CommandOutcome {
    await CommandDispatcher().execute(try CommandRequest(body: body, database: db), context: context)
}

private func failCommand(_ mode: BSONValue, _ data: BSONDocument) -> BSONDocument {
    ["configureFailPoint": "failCommand", "mode": mode, "data": .document(data)]
}

@Suite struct FailPointTests {
    @Test func configureFailPointIs59WithoutTestCommands() async throws {
        let ctx = try await failPointContext(testCommands: false)
        let reply = try await execute(failCommand("alwaysOn", ["failCommands": ["ping"], "errorCode": 2]), ctx).reply
        #expect(reply["code"] == .int32(59))
        let list = try await execute(["listCommands": 1], ctx).reply
        #expect(list["commands"]?.documentValue?["configureFailPoint"] == nil)
        let param = try await execute(["getParameter": 1, "enableTestCommands": 1], ctx).reply
        #expect(param["enableTestCommands"] == .bool(false))
    }

    @Test func unknownFailPointIs266AndModesAreCheckedAsMongod() async throws {
        let ctx = try await failPointContext()
        let cases: [(BSONDocument, Int32)] = [
            (["configureFailPoint": "noSuchPoint", "mode": "alwaysOn"], 266),
            (["configureFailPoint": 5, "mode": "alwaysOn"], 266),
            (["configureFailPoint": "failCommand"], 20),
            (["configureFailPoint": "failCommand", "mode": "sometimes"], 2),
            (["configureFailPoint": "failCommand", "mode": 1], 14),
            (["configureFailPoint": "failCommand", "mode": .document(["times": -1])], 2),
            (["configureFailPoint": "failCommand", "mode": .document(["times": .int64(3_000_000_000)])], 2),
            (["configureFailPoint": "failCommand", "mode": .document(["times": "x"])], 14),
            (["configureFailPoint": "failCommand", "mode": .document(["times": 1.5])], 2),
            (["configureFailPoint": "failCommand", "mode": .document(["skip": -2])], 2),
            (["configureFailPoint": "failCommand", "mode": .document(["activationProbability": 1.5])], 2),
            (["configureFailPoint": "failCommand", "mode": .document(["activationProbability": "x"])], 14),
            (["configureFailPoint": "failCommand", "mode": .document(["every": 2])], 2),
            (["configureFailPoint": "failCommand", "mode": "alwaysOn", "data": 3], 14),
        ]
        for (body, code) in cases {
            let reply = try await execute(body, ctx).reply
            #expect(reply["code"] == .int32(code), "\(body) → \(reply)")
        }
        // Not on another database (admin only).
        let other = try await execute(failCommand("off", [:]), db: "test", ctx).reply
        #expect(other["code"] == .int32(13))
    }

    @Test func timesCountsOnlyMatchingCommandsAndCountReportsEntries() async throws {
        let ctx = try await failPointContext()
        let set = try await execute(failCommand(.document(["times": 2]), ["failCommands": ["ping"], "errorCode": 10107, "errorLabels": ["Lbl"]]), ctx).reply
        #expect(set["count"] == .int64(0))
        // Other commands pass and do not consume the count.
        for _ in 0..<3 { #expect(try await execute(["buildInfo": 1], ctx).reply["ok"] == .double(1)) }
        for _ in 0..<2 {
            let failed = try await execute(["ping": 1], ctx).reply
            #expect(failed["code"] == .int32(10107))
            #expect(failed["codeName"] == .string("NotWritablePrimary"))
            #expect(failed["errmsg"] == .string("Failing command via 'failCommand' failpoint"))
            #expect(failed["errorLabels"] == .array(["Lbl"]))
        }
        #expect(try await execute(["ping": 1], ctx).reply["ok"] == .double(1))
        let again = try await execute(failCommand("off", [:]), ctx).reply
        #expect(again["count"] == .int64(2))
    }

    @Test func skipLetsTheFirstMatchesPassThenFiresEveryTime() async throws {
        let ctx = try await failPointContext()
        _ = try await execute(failCommand(.document(["skip": 2]), ["failCommands": ["ping"], "errorCode": 2]), ctx)
        var codes: [BSONValue?] = []
        for _ in 0..<4 { codes.append(try await execute(["ping": 1], ctx).reply["code"]) }
        #expect(codes == [nil, nil, .int32(2), .int32(2)])
        _ = try await execute(failCommand("off", [:]), ctx)
    }

    @Test func configureFailPointNeverMatchesItselfAndAliasesMatch() async throws {
        let ctx = try await failPointContext()
        _ = try await execute(failCommand("alwaysOn", ["failCommands": ["configureFailPoint", "isMaster"], "errorCode": 2]), ctx)
        let hello = try await execute(["hello": 1], ctx).reply
        #expect(hello["code"] == .int32(2), "isMaster is an alias of hello")
        let off = try await execute(failCommand("off", [:]), ctx).reply
        #expect(off["ok"] == .double(1))
    }

    @Test func appNameAndNamespaceFilter() async throws {
        var ctx = try await failPointContext()
        let hello = try await execute(["hello": 1, "client": .document(["driver": .document(["name": "t", "version": "1"]), "os": .document(["type": "Linux"]), "application": .document(["name": "app1"])])], ctx)
        ctx.apply(hello.sessionChanges)
        _ = try await execute(failCommand("alwaysOn", ["failCommands": ["find"], "errorCode": 2, "appName": "other"]), ctx)
        #expect(try await execute(["find": "c"], db: "test", ctx).reply["ok"] == .double(1))
        _ = try await execute(failCommand("alwaysOn", ["failCommands": ["find"], "errorCode": 2, "appName": "app1", "namespace": "test.d"]), ctx)
        #expect(try await execute(["find": "c"], db: "test", ctx).reply["ok"] == .double(1))
        #expect(try await execute(["find": "d"], db: "test", ctx).reply["code"] == .int32(2))
        _ = try await execute(failCommand("off", [:]), ctx)
    }

    @Test func closeConnectionAndWriteConcernError() async throws {
        let ctx = try await failPointContext()
        _ = try await execute(failCommand(.document(["times": 1]), ["failCommands": ["ping"], "closeConnection": true]), ctx)
        let closed = try await execute(["ping": 1], ctx)
        #expect(closed.closeConnection)
        #expect(closed.reply["code"] == .int32(50985))
        _ = try await execute(failCommand(.document(["times": 1]), ["failCommands": ["insert"], "writeConcernError": .document(["code": 91, "errmsg": "Replication is being shut down"])]), ctx)
        let insert = try await execute(["insert": "wce", "documents": .array([.document(["_id": 1])])], db: "test", ctx).reply
        #expect(insert["n"] == .int32(1))
        #expect(insert["writeConcernError"]?.documentValue?["code"] == .int32(91))
        #expect(insert["ok"] == .double(1))
    }

    @Test func blockWithoutBlockTimeIs72AndBlockIsCutByMaxTimeMS() async throws {
        let ctx = try await failPointContext()
        _ = try await execute(failCommand(.document(["times": 1]), ["failCommands": ["ping"], "blockConnection": true]), ctx)
        #expect(try await execute(["ping": 1], ctx).reply["code"] == .int32(72))
        _ = try await execute(failCommand(.document(["times": 1]), ["failCommands": ["ping"], "blockConnection": true, "blockTimeMS": -5]), ctx)
        #expect(try await execute(["ping": 1], ctx).reply["code"] == .int32(72))
        // Blocking 120 s under maxTimeMS 50: answered 50 MaxTimeMSExpired once the deadline passes.
        // The bound is loose on purpose: a parallel test run on 2 loaded cores delayed the 50 ms
        // wake-up by 14 s once; an uncut block would take the whole 120 s.
        _ = try await execute(failCommand(.document(["times": 1]), ["failCommands": ["ping"], "blockConnection": true, "blockTimeMS": 120_000]), ctx)
        let started = ContinuousClock.now
        let reply = try await execute(["ping": 1, "maxTimeMS": 50], ctx).reply
        #expect(reply["code"] == .int32(50))
        #expect(reply["codeName"] == .string("MaxTimeMSExpired"))
        #expect(ContinuousClock.now - started < .seconds(60), "the block ended at the deadline, not after blockTimeMS")
    }

    @Test func modeCountdown() {
        var mode = FailPointMode.times(2)
        var fired: [Bool] = []
        for _ in 0..<3 {
            let (f, next) = mode.next(random: { 0 })
            fired.append(f)
            mode = next
        }
        #expect(fired == [true, true, false])
        #expect(mode == .off)
        #expect(FailPointMode.probability(0.5).next(random: { 0.7 }).fires == false)
        #expect(FailPointMode.probability(0.5).next(random: { 0.2 }).fires == true)
    }
}
