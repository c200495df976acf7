import Auth
import BSON
import Commands
import Dispatch
import Executors
import Foundation
import Logging
import SQLiteStorage
import Storage
import Synchronization

/// The backend every fuzz input runs against: one SQLite store in a temporary directory, opened
/// once per process, emptied after an input that may have written, so inputs do not see each
/// other's data (a crash then reproduces from its input file alone).
///
/// The `fatalError`s in this module are the fuzzer's oracle, not error handling: a reply that is
/// not valid BSON or has no numeric `ok`, or a harness that cannot set itself up, must stop the
/// run so libFuzzer saves the input. FuzzSupport is test-only and never linked into `gridlite`,
/// so no client byte reaches them; the product's sources have no `fatalError`, `try!` or
/// `precondition`.
public final class FuzzEngine: Sendable {
    /// The process-wide engine, opened on first use.
    public static let shared = FuzzEngine()

    /// The SQLite store.
    public let storage: SQLiteStorageEngine
    /// The dispatcher the server uses.
    public let dispatcher = CommandDispatcher()
    /// One server environment per `--auth` × test-commands combination (index: auth 2, test 1),
    /// sharing one user store and one failed-login throttle.
    private let environments: [ServerEnvironment]
    /// Users of `admin.system.users` (shared by the environments, so one invalidation serves all).
    private let users = UserStore()
    /// The failed-login throttle (forgotten after each input: see ``session(_:_:)``).
    private let throttle = AuthFailureThrottle()
    /// ``Grammar/rootUser`` as `createUser` stored it (SCRAM keys derived once: PBKDF2 per input
    /// would cost more than the rest of the input).
    private let rootUser: StoredUser
    private let connections = Atomic<Int64>(0)
    /// Where the store lives (removed at exit).
    public let directory: String

    private init() {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("gridlite-fuzz-\(ProcessInfo.processInfo.processIdentifier)").path
        try? FileManager.default.removeItem(atPath: dir)
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            fatalError("fuzz: cannot create \(dir): \(error)")
        }
        directory = dir
        FuzzEngine.directoryToRemove.withLock { $0 = dir }
        atexit { FuzzEngine.directoryToRemove.withLock { if let d = $0 { try? FileManager.default.removeItem(atPath: d) } } }
        let opened = FuzzEngine.blocking { () -> Result<SQLiteStorageEngine, any Error> in
            do {
                return .success(try await SQLiteStorageEngine.open(directory: dir, logger: FuzzEngine.quietLogger) { c in
                    c.synchronous = .off
                    c.readerCount = 1
                })
            } catch {
                return .failure(error)
            }
        }
        let storage: SQLiteStorageEngine
        switch opened {
        case .success(let engine): storage = engine
        case .failure(let error): fatalError("fuzz: cannot open a SQLite store in \(dir): \(error)")
        }
        self.storage = storage
        let (users, throttle) = (self.users, self.throttle)
        environments = [false, true].flatMap { auth in
            [false, true].map { test in
                ServerEnvironment(
                    gridliteVersion: "fuzz", argv: ["gridlite", "serve"], parsedOptions: [:], storageEngineName: "sqlite",
                    auth: ServerAuth(enabled: auth, users: users, throttle: throttle), testCommandsEnabled: test)
            }
        }
        rootUser = FuzzEngine.blocking { [environments, dispatcher] in
            await FuzzEngine.createRootUser(storage: storage, users: users, environment: environments[0], dispatcher: dispatcher)
        }
    }

    /// Runs `createUser` for ``Grammar/rootUser`` once and keeps what it stored; empties the store.
    private static func createRootUser(
        storage: SQLiteStorageEngine, users: UserStore, environment: ServerEnvironment, dispatcher: CommandDispatcher
    ) async -> StoredUser {
        let context = CommandContext(
            environment: environment, connection: ConnectionInfo(id: 0, remoteAddress: "127.0.0.1:1", localAddress: "127.0.0.1:27017"),
            logger: quietLogger, storage: storage, cursors: CursorRegistry())
        let body: BSONDocument = [
            "createUser": .string(Grammar.rootUser), "pwd": .string(Grammar.rootPassword), "roles": ["root"], "$db": "admin",
        ]
        do {
            let reply = await dispatcher.dispatch(try CommandRequest(body: body, database: "admin"), context: context)
            guard reply["ok"] == .double(1), let user = try await users.user(Grammar.rootUser, db: "admin", storage: storage) else {
                fatalError("fuzz: createUser \(Grammar.rootUser) failed: \(reply)")
            }
            await empty(storage)
            users.invalidate()
            return user
        } catch {
            fatalError("fuzz: createUser \(Grammar.rootUser) failed: \(error)")
        }
    }

    private static let directoryToRemove = Mutex<String?>(nil)

    /// A logger that drops everything (the fuzzer's output stays readable; logging is not under test).
    public static let quietLogger = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The executor every input runs on, as the server runs each connection's task on a
    /// `BlockingExecutor` (`gridlite serve`): SQLite statements then run inline on the input's own
    /// thread instead of hopping to the writer's or a reader's dispatch queue and back, and actor hops
    /// (cursor registry, storage catalog) stay on that thread too. One input at a time, so one thread
    /// does all the work; more are started only while one blocks with jobs queued.
    public static let executor = BlockingExecutor(maximumThreadCount: 8)

    /// The environment of `mode`.
    func environment(_ mode: FuzzMode) -> ServerEnvironment {
        environments[(mode.auth ? 2 : 0) + (mode.testCommands ? 1 : 0)]
    }

    /// Runs `work` as one client connection would, on a server set up as `mode` says: a fresh
    /// connection id, cursor registry and `currentOp` entry, logged in when `mode` says so, on
    /// ``executor`` (as a connection task of the server). Then closes its cursors, turns the fail
    /// point off, forgets failed logins and finished retryable writes, and, when `work` returns
    /// true, drops every database, so the next input starts from an empty store.
    public func session(
        _ mode: FuzzMode = .plain, _ work: @escaping @Sendable (inout CommandContext, CommandDispatcher) async -> Bool
    ) async {
        await withTaskExecutorPreference(FuzzEngine.executor) {
            await sessionOnExecutor(mode, work)
        }
    }

    private func sessionOnExecutor(
        _ mode: FuzzMode, _ work: @escaping @Sendable (inout CommandContext, CommandDispatcher) async -> Bool
    ) async {
        let id = connections.wrappingAdd(1, ordering: .relaxed).newValue
        let environment = environment(mode)
        var context = CommandContext(
            environment: environment,
            connection: ConnectionInfo(id: id, remoteAddress: "127.0.0.1:1", localAddress: "127.0.0.1:27017"),
            logger: FuzzEngine.quietLogger, storage: storage, cursors: CursorRegistry())
        let activity = context.register()
        if mode.authenticated {
            context.apply([.authentication(.authenticated([UserName(user: Grammar.rootUser, db: "admin")]))])
        }
        let reset = await work(&context, dispatcher)
        await context.cursors.closeAll(connectionId: id)
        environment.connections.close(activity)
        if mode.testCommands {
            do {
                _ = try environment.failPoints.configure("failCommand", mode: .off, data: [:])
            } catch {
                fatalError("fuzz: cannot turn the fail point off: \(error)")
            }
        }
        throttle.recordSuccess("127.0.0.1")
        // Retryable writes remembered by lsid would otherwise answer a later input's write.
        await environment.retryableWrites.forgetFinished()
        if reset { await FuzzEngine.empty(storage) }
        users.invalidate()
    }

    /// Stores ``Grammar/rootUser`` (role `root` on `admin`); the store must not hold it yet.
    public func storeRootUser() async {
        do {
            guard try await users.insert(rootUser, storage: storage) else { fatalError("fuzz: \(Grammar.rootUser) already stored") }
        } catch {
            fatalError("fuzz: cannot store \(Grammar.rootUser): \(error)")
        }
    }

    /// How many times the store was emptied (a harness that keeps state between inputs compares it).
    public static let emptied = Atomic<Int>(0)

    /// Drops every database.
    public static func empty(_ storage: some StorageEngine) async {
        emptied.add(1, ordering: .relaxed)
        do {
            for database in try await storage.listDatabases() {
                try await storage.dropDatabase(database.name)
            }
        } catch {
            fatalError("fuzz: cannot empty the store: \(error)")
        }
    }

    /// Runs async work to completion from the fuzzer's synchronous callback: one task started
    /// directly on ``executor`` (no stop on Swift's cooperative pool), so an input costs two thread
    /// switches (there and back) however many statements and actor calls it makes.
    public static func blocking<T: Sendable>(_ work: @escaping @Sendable () async -> T) -> T {
        let result = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: executor) {
            let value = await work()
            result.withLock { $0 = value }
            done.signal()
        }
        // On an executor thread (the store opening from inside an input), wait as a blocking call
        // so the task's jobs get a thread of their own.
        BlockingExecutor.blocking { done.wait() }
        guard let value = result.withLock({ $0 }) else { fatalError("fuzz: async work ended without a result") }
        return value
    }

    /// Runs one command as `Connection` does (through the dispatcher's observation point, then the
    /// session changes it returned), checks the reply, and says whether the connection would close
    /// (a fail point's `closeConnection`). A fail point told to block for more than a second is not
    /// run: blocking is what it asks for (a test command, off unless enabled), and it would only
    /// stall the fuzzer; the connection closes instead.
    public static func execute(
        _ makeRequest: () throws(CommandError) -> CommandRequest, context: inout CommandContext,
        dispatcher: CommandDispatcher, wire: WireFacts = .inProcess
    ) async -> (reply: BSONDocument, close: Bool) {
        let name: String
        let outcome: CommandOutcome
        do {
            let request = try makeRequest()
            name = request.name
            if context.environment.testCommandsEnabled, stallsByDesign(request) { return ([:], true) }
            outcome = await dispatcher.execute(request, context: context, wire: wire)
            context.apply(outcome.sessionChanges)
        } catch {
            name = "(malformed request)"
            outcome = CommandOutcome(reply: CommandDispatcher.errorReply(error))
        }
        checkReply(outcome.reply, for: name)
        return (outcome.reply, outcome.closeConnection)
    }

    /// A `configureFailPoint` whose data blocks commands for over a second.
    static func stallsByDesign(_ request: CommandRequest) -> Bool {
        guard request.name == "configureFailPoint", case .document(let data)? = request.body["data"] else { return false }
        let parsed = FailCommandData(data)
        guard parsed.blockConnection else { return false }
        return (parsed.blockTimeMS ?? 0) > 1000
    }

    /// Checks a reply the way a driver would read it: valid BSON with a numeric `ok`. A reply that
    /// fails is a server bug (wrong bytes on the wire), reported as a crash.
    public static func checkReply(_ reply: BSONDocument, for command: String) {
        do {
            _ = try BSONDocument(validating: reply.bytes)
        } catch {
            fatalError("fuzz: reply to '\(command)' is not valid BSON: \(error)")
        }
        guard let ok = reply["ok"], ok.isNumber else {
            fatalError("fuzz: reply to '\(command)' has no numeric ok: \(reply)")
        }
    }
}
