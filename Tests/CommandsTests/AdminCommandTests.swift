import BSON
import Foundation
import Testing

@testable import Commands

@Suite struct AdminCommandTests {
    @Test(arguments: ["hello", "isMaster", "ismaster"])
    func helloReply(name: String) async throws {
        let reply = try await run([name: .int32(1), "helloOk": .bool(true), "client": .document([
            "driver": .document(["name": "test", "version": "1"]), "os": .document(["type": "Linux"]),
        ])])
        let primaryKey = name == "hello" ? "isWritablePrimary" : "ismaster"
        #expect(reply[primaryKey] == .bool(true))
        #expect(reply["helloOk"] == .bool(true))
        #expect(reply["maxBsonObjectSize"] == .int32(16_777_216))
        #expect(reply["maxMessageSizeBytes"] == .int32(48_000_000))
        #expect(reply["maxWriteBatchSize"] == .int32(100_000))
        #expect(reply["logicalSessionTimeoutMinutes"] == .int32(30))
        #expect(reply["connectionId"] == .int64(7))
        #expect(reply["minWireVersion"] == .int32(0))
        #expect(reply["maxWireVersion"] == .int32(21))
        #expect(reply["readOnly"] == .bool(false))
        #expect(reply["topologyVersion"] == nil)
        #expect(reply["setName"] == nil)
        #expect(reply["compression"] == nil)
        guard case .datetime(let ms)? = reply["localTime"] else {
            Issue.record("localTime missing")
            return
        }
        #expect(abs(Double(ms) / 1000 - Date().timeIntervalSince1970) < 5)
        #expect(reply["ok"] == .double(1))
    }

    @Test func helloWithoutHelloOk() async throws {
        let reply = try await run(["isMaster": .int32(1)])
        #expect(reply["helloOk"] == nil)
    }

    @Test func buildInfoVersionMatchesArray() async throws {
        let reply = try await run(["buildinfo": .int32(1)], db: "test")
        #expect(reply["version"] == .string("7.0.0"))
        #expect(reply["versionArray"] == .array([.int32(7), .int32(0), .int32(0), .int32(0)]))
        #expect(reply["gitVersion"]?.stringValue?.isEmpty == false)
        #expect(reply["maxBsonObjectSize"] == .int32(16_777_216))
    }

    @Test func getParameterStarAndNamed() async throws {
        let all = try await run(["getParameter": "*"])
        #expect(all["featureCompatibilityVersion"] == .document(["version": "7.0"]))
        #expect(all["enableTestCommands"] == .bool(false))
        let named = try await run(["getParameter": .int32(1), "featureCompatibilityVersion": .int32(1)])
        #expect(named.keys == ["featureCompatibilityVersion", "ok"])
        let missing = try await run(["getParameter": .int32(1), "noSuchParameter": .int32(1)])
        #expect(missing["code"] == .int32(72))
    }

    @Test(arguments: TestEngine.allCases)
    func serverStatusHasLiveFigures(engine: TestEngine) async throws {
        let context = try await makeTestContext(engine: engine)
        _ = context.environment.counters.connectionOpened()
        let reply = try await run(["serverStatus": .int32(1)], context: context)
        #expect(reply["pid"] == .int64(Int64(ProcessInfo.processInfo.processIdentifier)))
        #expect(reply["process"] == .string("gridlite"))
        #expect(reply.value(atPath: "connections.current") == .int32(1))
        #expect(reply.value(atPath: "connections.totalCreated") == .int32(1))
        #expect(reply.value(atPath: "storageEngine.name") == .string(engine.rawValue))
        #expect(reply.value(atPath: "opcounters.command") == .int64(1))
        #expect(reply["host"]?.stringValue?.hasSuffix(":27017") == true)
    }

    @Test func smallAdminCommands() async throws {
        #expect(try await run(["whatsmyuri": .int32(1)])["you"] == .string("127.0.0.1:5000"))
        let status = try await run(["connectionStatus": .int32(1), "showPrivileges": .bool(true)])
        #expect(status.value(atPath: "authInfo.authenticatedUsers") == .array([]))
        #expect(status.value(atPath: "authInfo.authenticatedUserPrivileges") == .array([]))
        #expect(try await run(["endSessions": .array([.document(["id": .int32(1)])])])["ok"] == .double(1))
        #expect(try await run(["killAllSessions": .array([])])["ok"] == .double(1))
        #expect(try await run(["getLastError": .int32(1)])["err"] == .null)
        let host = try await run(["hostInfo": .int32(1)])
        #expect(host.value(atPath: "system.numCores") != nil)
        let opts = try await run(["getCmdLineOpts": .int32(1)])
        #expect(opts["argv"] == .array(["gridlite", "serve"]))
    }

    @Test func listCommandsNamesEveryHandler() async throws {
        let reply = try await run(["listCommands": .int32(1)])
        guard case .document(let commands)? = reply["commands"] else {
            Issue.record("no commands")
            return
        }
        // Test commands are listed only when enabled (makeTestContext leaves them off).
        for h in CommandTable.all {
            for n in h.names { #expect(commands.contains(n) == !h.testOnly, "\(n) in listCommands: \(commands.contains(n))") }
        }
    }
}
