import BSON
import Commands
import Executors
import Foundation
import Logging
import NIOCore
import Server
import ServiceLifecycle
import SQLiteStorage

/// The real NIO server in process: bound to a free loopback port, over a SQLite store in a
/// temporary directory, run by a ServiceGroup so graceful shutdown is the daemon's own.
final class TestServer: Sendable {
    let port: Int
    let environment: ServerEnvironment
    let cursors: CursorRegistry
    private let group: ServiceGroup
    private let running: Task<Void, any Error>
    private let storage: SQLiteStorageEngine
    private let executor: BlockingExecutor
    private let directory: URL

    private init(
        port: Int, environment: ServerEnvironment, cursors: CursorRegistry, group: ServiceGroup,
        running: Task<Void, any Error>, storage: SQLiteStorageEngine, executor: BlockingExecutor, directory: URL
    ) {
        self.port = port
        self.environment = environment
        self.cursors = cursors
        self.group = group
        self.running = running
        self.storage = storage
        self.executor = executor
        self.directory = directory
    }

    /// Starts a server; call ``stop()`` at the end of the test. `inline` answers short requests on
    /// the connection's event loop, as the daemon does (``InlinePolicy``); false runs every request
    /// on the executor.
    static func start(inline: InlinePolicy? = InlinePolicy()) async throws -> TestServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gridlite-server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var logger = Logger(label: "server-test")
        logger.logLevel = .critical
        let storage = try await SQLiteStorageEngine.open(directory: directory.path, logger: logger)
        let cursors = CursorRegistry()
        let counters = ServerCounters()
        let environment = ServerEnvironment(
            gridliteVersion: "test", argv: [], parsedOptions: [:], storageEngineName: "sqlite", counters: counters)
        let executor = BlockingExecutor(maximumThreadCount: 16)
        // A generous drain limit: under a loaded test run the 10 s default can cut a 15 MiB reply.
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.shutdownDrainLimit = .seconds(300)
        configuration.inlinePolicy = inline
        let server = try await GridliteServer.bind(
            configuration: configuration,
            dispatcher: CommandDispatcher(),
            hooks: ConnectionHooks(onClose: { id in await cursors.closeAll(connectionId: id) }),
            counters: counters, executor: executor, logger: logger
        ) { connection, connectionLogger in
            CommandContext(environment: environment, connection: connection, logger: connectionLogger,
                           storage: storage, cursors: cursors)
        }
        environment.setListenPort(server.boundPort)
        let group = ServiceGroup(services: [server], logger: logger)
        let running = Task { try await group.run() }
        return TestServer(
            port: server.boundPort, environment: environment, cursors: cursors, group: group, running: running,
            storage: storage, executor: executor, directory: directory)
    }

    /// Begins graceful shutdown (as SIGTERM does) without waiting for it.
    func beginShutdown() async {
        await group.triggerGracefulShutdown()
    }

    /// Shuts down, waits for the server to return, closes the store and removes its files.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await running.value
        await storage.close()
        executor.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Waits for the server task to end (after ``beginShutdown()``).
    func waitUntilStopped() async throws {
        try await running.value
    }

    /// A new raw wire client connected to this server.
    func connect() async throws -> WireClient {
        try await WireClient.connect(port: port)
    }
}
