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
/// once per process, emptied after each input so inputs do not see each other's data (a crash then
/// reproduces from its input file alone).
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
    private let environment: ServerEnvironment
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
        switch opened {
        case .success(let engine): storage = engine
        case .failure(let error): fatalError("fuzz: cannot open a SQLite store in \(dir): \(error)")
        }
        environment = ServerEnvironment(
            gridliteVersion: "fuzz", argv: ["gridlite", "serve"], parsedOptions: [:], storageEngineName: "sqlite")
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

    /// Runs `work` as one client connection would: a fresh connection id and cursor registry, on
    /// ``executor`` (as a connection task of the server); then closes its cursors and, when `work`
    /// returns true, drops every database, so the next input starts from an empty store.
    public func session(_ work: @escaping @Sendable (CommandContext, CommandDispatcher) async -> Bool) async {
        await withTaskExecutorPreference(FuzzEngine.executor) {
            await sessionOnExecutor(work)
        }
    }

    private func sessionOnExecutor(_ work: @escaping @Sendable (CommandContext, CommandDispatcher) async -> Bool) async {
        let id = connections.wrappingAdd(1, ordering: .relaxed).newValue
        let context = CommandContext(
            environment: environment,
            connection: ConnectionInfo(id: id, remoteAddress: "127.0.0.1:1", localAddress: "127.0.0.1:27017"),
            logger: FuzzEngine.quietLogger, storage: storage, cursors: CursorRegistry())
        let reset = await work(context, dispatcher)
        await context.cursors.closeAll(connectionId: id)
        if reset { await FuzzEngine.empty(storage) }
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
