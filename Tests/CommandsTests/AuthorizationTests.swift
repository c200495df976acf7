import Auth
import BSON
import Logging
import MemoryStorage
import Storage
import Testing

@testable import Commands

/// `--auth` at the dispatcher, without sockets: each test has its own in-memory store and a
/// `ServerEnvironment` with authentication on; the session is changed the way the connection does
/// (``CommandContext/apply(_:)``).
struct AuthorizationTests {
    func context(remote: String = "127.0.0.1:5000") -> CommandContext {
        let env = ServerEnvironment(
            gridliteVersion: "test", argv: ["gridlite"], parsedOptions: [:], storageEngineName: "memory",
            auth: ServerAuth(enabled: true))
        return CommandContext(
            environment: env, connection: ConnectionInfo(id: 1, remoteAddress: remote, localAddress: "127.0.0.1:27017"),
            logger: Logger(label: "test"), storage: MemoryStorageEngine(), cursors: CursorRegistry())
    }

    func exec(_ body: BSONDocument, db: String, _ context: inout CommandContext) async throws -> BSONDocument {
        let outcome = await CommandDispatcher().execute(try CommandRequest(body: body, database: db), context: context)
        context.apply(outcome.sessionChanges)
        return outcome.reply
    }

    func login(_ user: String, _ db: String, _ context: inout CommandContext) {
        context.apply([.authentication(.authenticated([UserName(user: user, db: db)]))])
    }

    @Test func localhostExceptionThenRoles() async throws {
        var ctx = context()
        #expect(try await exec(["find": "fs.files"], db: "media", &ctx)["code"] == .int32(13))
        #expect(try await exec(["ping": 1], db: "admin", &ctx)["ok"] == .double(1))
        // The first user, from loopback, on admin only.
        #expect(try await exec(["createUser": "x", "pwd": "p", "roles": ["read"]], db: "media", &ctx)["code"] == .int32(13))
        #expect(try await exec(["createUser": "ann", "pwd": "pw", "roles": [.document(["role": "read", "db": "media"])]],
                               db: "admin", &ctx)["ok"] == .double(1))
        #expect(try await exec(["createUser": "bob", "pwd": "pw", "roles": ["root"]], db: "admin", &ctx)["code"] == .int32(13))

        login("ann", "admin", &ctx)
        #expect(try await exec(["find": "fs.files"], db: "media", &ctx)["ok"] == .double(1))
        let denied = try await exec(["insert": "fs.files", "documents": [.document(["a": 1])]], db: "media", &ctx)
        #expect(denied["code"] == .int32(13))
        #expect(denied["errmsg"] == .string("not authorized on media to execute command { insert: \"fs.files\" } (requires insert)"))
        #expect(try await exec(["find": "fs.files"], db: "other", &ctx)["code"] == .int32(13))
        #expect(try await exec(["serverStatus": 1], db: "admin", &ctx)["code"] == .int32(13))
        // Unknown commands are still 59; known but unclassified ones need root.
        #expect(try await exec(["noSuchCommand": 1], db: "admin", &ctx)["code"] == .int32(59))
        #expect(try await exec(["logout": 1], db: "admin", &ctx)["ok"] == .double(1))
        #expect(try await exec(["find": "fs.files"], db: "media", &ctx)["code"] == .int32(13))
    }

    @Test func noLocalhostExceptionFromOtherAddresses() async throws {
        var ctx = context(remote: "10.1.2.3:5000")
        #expect(try await exec(["createUser": "ann", "pwd": "pw", "roles": ["root"]], db: "admin", &ctx)["code"] == .int32(13))
    }

    @Test(arguments: [
        ("find", "media", ActionClass.read), ("insert", "media", .write), ("dropDatabase", "media", .dbAdmin),
        ("createUser", "media", .userAdmin), ("serverStatus", "admin", .clusterMonitor),
    ])
    func requirementsOfCommands(_ name: String, _ db: String, _ action: ActionClass) throws {
        let request = try CommandRequest(body: [name: name == "find" || name == "insert" ? "c" : .int32(1)], database: db)
        let requirements = Authorizer.requirements(request)
        #expect(requirements.contains { $0.actions.contains(action) })
    }

    @Test func systemUsersNeedsUserAdmin() throws {
        let request = try CommandRequest(body: ["find": "system.users"], database: "admin")
        #expect(Authorizer.requirements(request) == [Requirement([.userAdmin], on: .database("admin"))])
        let renamed = try CommandRequest(body: ["renameCollection": "a.x", "to": "b.y"], database: "admin")
        #expect(Authorizer.requirements(renamed).map(\.scope) == [.database("a"), .database("b")])
        let out = try CommandRequest(body: ["aggregate": "x", "pipeline": [.document(["$out": "y"])]], database: "m")
        #expect(Authorizer.requirements(out).contains(Requirement([.write], on: .database("m"))))
    }

    @Test func secretsAreRedacted() throws {
        let request = try CommandRequest(body: ["createUser": "ann", "pwd": "secret", "roles": []], database: "admin")
        #expect(AuthRedaction.body(of: request)["pwd"] == .string("###"))
        let find = try CommandRequest(body: ["find": "c", "filter": .document(["pwd": "x"])], database: "admin")
        #expect(AuthRedaction.body(of: find) == find.body)
    }

    @Test func throttleDelaysAfterFiveFailures() {
        let throttle = AuthFailureThrottle()
        let now = ContinuousClock.now
        let delays = (0..<8).map { _ in throttle.recordFailure("10.0.0.1", now: now).delay }
        #expect(delays == [.zero, .zero, .zero, .zero, .zero, .milliseconds(100), .milliseconds(200), .milliseconds(300)])
        #expect(throttle.recordFailure("10.0.0.2", now: now).delay == .zero)   // other addresses unaffected
        #expect(throttle.recordFailure("10.0.0.1", now: now + .seconds(120)).delay == .zero)   // forgotten
        throttle.recordSuccess("10.0.0.1")
        #expect(throttle.recordFailure("10.0.0.1", now: now).failures == 1)
        #expect(AuthFailureThrottle.host(of: "::1:5000") == "::1")
    }
}
