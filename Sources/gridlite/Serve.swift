import ArgumentParser
import BSON
import Commands
import Compression
import Executors
import Foundation
import Logging
import NIOCore
import PostgresStorage
import SQLiteStorage
import Server
import ServiceLifecycle
import Storage

/// `gridlite serve`: runs the daemon until SIGINT or SIGTERM.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the server.",
        discussion: "Every option can also be set with an environment variable GRIDLITE_<OPTION IN UPPER SNAKE CASE> (GRIDLITE_PORT, GRIDLITE_DATA_DIR, GRIDLITE_TLS_MODE, ...); the command line wins.")

    @Option(name: [.customLong("host"), .customLong("bind_ip")], help: "Address to listen on (--bind_ip as mongod).")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on, 0-65535 (0 picks a free port).")
    var port: Int = 27017

    @Option(name: .customLong("data-dir"), help: "Directory for the database files (created if missing).")
    var dataDir: String = "./gridlite-data"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(name: .customLong("log-format"), help: "text, or json (one JSON object per line: t, level, msg, metadata).")
    var logFormat: String = "text"

    @Option(name: .customLong("maxConns"),
            help: "Most client connections at once (as mongod's net.maxIncomingConnections); more are closed at once.")
    var maxConns: Int = ServerConfiguration.defaultMaxConnections

    @Option(name: .customLong("maxIncomingBytesInFlight"),
            help: "Most request bytes held at once across connections; readers beyond it wait (0: no cap).")
    var maxIncomingBytesInFlight: Int = ServerConfiguration.defaultMaxIncomingBytesInFlight

    @Option(name: .customLong("frameReadTimeoutSecs"),
            help: "Seconds without a byte of a started message before its connection is closed (0: never).")
    var frameReadTimeoutSecs: Int = 60

    @Option(
        name: .customLong("networkMessageCompressors"),
        help: "OP_COMPRESSED compressors to offer, comma-separated (snappy, zstd, zlib), or 'disabled'.")
    var networkMessageCompressors: String = "snappy,zstd,zlib"

    @OptionGroup(title: "HTTP gateway")
    var http: HTTPOptions

    @Option(name: .customLong("slowms"), help: "Log commands slower than this many milliseconds as 'Slow query' (as mongod).")
    var slowMilliseconds: Int = 100

    @OptionGroup var authOptions: AuthOptions

    @OptionGroup var parameters: ParameterOptions
    @OptionGroup(title: "TLS")
    var tls: TLSOptions

    @OptionGroup var storageOptions: StorageOptions

    func run() async throws {
        let logger = try setUpLogging()
        try checkOptions()
        http.check()
        let prometheus = PrometheusExport.bootstrap()  // before anything makes a metric
        let testCommandsEnabled: Bool
        do {
            testCommandsEnabled = try parameters.testCommandsEnabled()
        } catch {
            Serve.fail("\(error)")
        }
        if testCommandsEnabled { logger.warning("test commands are enabled (configureFailPoint): not for production") }
        let compressors: [MessageCompressor]
        do {
            compressors = try MessageCompressor.parseList(networkMessageCompressors)
        } catch {
            Serve.fail("\(error)")
        }
        let tlsSettings = tls.settings()
        let openFiles = FileLimit.raiseToHardLimit(logger: logger)
        // As mongod: connections are capped at 80% of the open-file limit, leaving room for the
        // database, segment files and the WAL.
        let connectionCap = openFiles.map { max(1, Int(clamping: $0 / 5 * 4)) } ?? maxConns
        let effectiveMaxConns = min(maxConns, connectionCap)
        if effectiveMaxConns < maxConns {
            logger.info("maxConns lowered from \(maxConns) to \(effectiveMaxConns): 80% of the open-file limit \(openFiles ?? 0)")
        }
        let dataPath = URL(fileURLWithPath: dataDir).standardizedFileURL.path
        let postgresURL = storageOptions.postgresURL()
        let storage: any StorageEngine
        let lock: DataDirectoryLock?
        if let postgresURL {
            (storage, lock) = (await StorageOptions.openPostgres(postgresURL, logger: logger), nil)
        } else {
            (storage, lock) = try await openSQLite(dataPath, logger: logger)
        }
        // After the storage checks, so that a start-up error stays the only line.
        EnvironmentOptions.logApplied(logger: logger)
        logger.info("\(tls.describe(tlsSettings))")
        var serverConfiguration = ServerConfiguration(
            host: host, port: port, maxConnections: effectiveMaxConns,
            maxIncomingBytesInFlight: maxIncomingBytesInFlight > 0 ? maxIncomingBytesInFlight : nil,
            frameReadTimeout: frameReadTimeoutSecs > 0 ? .seconds(Int64(frameReadTimeoutSecs)) : nil)
        serverConfiguration.compressors = compressors
        serverConfiguration.tls = tlsSettings
        // Short requests on the connection's event loop (docs/performance.md, "No thread hops"):
        // SQLite only; PostgreSQL statements wait on the network and always run on the executor.
        if postgresURL == nil { serverConfiguration.inlinePolicy = InlinePolicy() }
        logger.info("limits: \(Serve.describeLimits(serverConfiguration, openFiles: openFiles))")

        let cursors = CursorRegistry()
        let serverAuth = authOptions.makeServerAuth()
        let counters = ServerCounters()
        let environment = ServerEnvironment(
            gridliteVersion: Gridlite.version, argv: CommandLine.arguments,
            parsedOptions: parsedOptions(dataPath, maxConns: effectiveMaxConns),
            storageEngineName: postgresURL == nil ? "sqlite" : "postgresql", counters: counters,
            slowOperationThreshold: .milliseconds(max(0, slowMilliseconds)),
            networkMessageCompressors: compressors.map(\.name), auth: serverAuth,
            testCommandsEnabled: testCommandsEnabled)
        authOptions.logStartup(host: host, logger: logger)
        // Connection tasks run on these threads, so SQLite calls run inline there (see BlockingExecutor).
        let executor = BlockingExecutor(maximumThreadCount: 64)
        let server: GridliteServer
        do {
            server = try await GridliteServer.bind(
                configuration: serverConfiguration,
                dispatcher: CommandDispatcher(),
                hooks: ConnectionHooks(onClose: { id in await cursors.closeAll(connectionId: id) }),
                counters: counters, executor: executor, logger: logger
            ) { connection, connectionLogger in
                CommandContext(environment: environment, connection: connection, logger: connectionLogger,
                               storage: storage, cursors: cursors)
            }
        } catch {
            Serve.fail("cannot listen on \(host):\(port): \(Serve.describeBindError(error))")
        }
        environment.setListenPort(server.boundPort)
        let gateway = http.makeGateway(storage: storage, logger: logger, verifier: authOptions.httpVerifier(serverAuth, storage: storage),
                                       executor: executor) {
            await prometheus.text(dataPath: dataPath, counters: counters, cursors: cursors, storage: storage)
        }

        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                // Shut down in reverse order: the storage engine (first) closes after the server.
                services: [
                    .init(service: storage),
                    .init(service: server), .init(service: CursorReaper.service(cursors: cursors, logger: logger)),
                    .init(service: MaintenanceService.service(
                        storage: storage, memory: IdleMemoryRelease(counters: counters), logger: logger)),
                ] + (gateway.map { [.init(service: $0)] } ?? []),
                logger: logger))
        let signals = await SignalWatcher.start(logger: logger, reload: TLSOptions.reloader(tlsSettings, logger: logger)) {
            await group.triggerGracefulShutdown()
        }
        try await group.run()
        signals.cancel()
        executor.shutdown()
        lock?.release()
        logger.info("shut down cleanly")
    }

    /// Opens the embedded SQLite engine in the data directory (which it locks), or exits.
    private func openSQLite(_ dataPath: String, logger: Logger) async throws -> (any StorageEngine, DataDirectoryLock?) {
        do {
            try DataDirectory.prepare(dataPath)
        } catch {
            Serve.fail("cannot use data directory \(error)")
        }
        let lock: DataDirectoryLock
        do {
            lock = try DataDirectoryLock.acquire(directory: dataPath)
        } catch {
            Serve.fail("\(error)")
        }
        if let stale = lock.stalePid {
            logger.info("took over the data directory lock from pid \(stale), which exited without shutting down")
        }
        logger.info("gridlite \(Gridlite.version) starting: pid \(getpid()), data directory \(dataPath)")

        let storage: SQLiteStorageEngine
        do {
            storage = try await SQLiteStorageEngine.open(directory: dataPath, logger: logger)
        } catch {
            Serve.fail("cannot open the database \(dataPath)/\(SQLiteStorageEngine.fileName): \(Serve.describe(error))")
        }
        let sizes = DataDirectory.sizes(dataPath)
        logger.info("storage: \(SQLiteStorageEngine.fileName) \(formatBytes(sizes.database)) (+ \(formatBytes(sizes.wal)) write-ahead log), \(sizes.segments) segment files \(formatBytes(sizes.segmentBytes)) in \(SQLiteStorageEngine.blobDirectoryName)/")
        return (storage, lock)
    }

    /// Logging to stderr at `--log-level`, as text or JSON lines.
    private func setUpLogging() throws -> Logger {
        guard let level = Logger.Level(rawValue: logLevel.lowercased()) else {
            Serve.fail("unknown log level '\(logLevel)' (trace, debug, info, notice, warning, error, critical)")
        }
        switch logFormat.lowercased() {
        case "text":
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        case "json":
            LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
        default:
            Serve.fail("unknown log format '\(logFormat)' (text or json)")
        }
        return Logger(label: "gridlite")
    }

    /// One-line errors for option values out of range (ArgumentParser only checks they are numbers).
    private func checkOptions() throws {
        guard (0...65535).contains(port) else { Serve.fail("--port \(port) is out of range (0-65535)") }
        guard maxConns >= 1 else { Serve.fail("--maxConns \(maxConns) must be at least 1") }
        guard maxIncomingBytesInFlight >= 0 else {
            Serve.fail("--maxIncomingBytesInFlight \(maxIncomingBytesInFlight) must be 0 (no cap) or more")
        }
        guard (0...86_400).contains(frameReadTimeoutSecs) else {
            Serve.fail("--frameReadTimeoutSecs \(frameReadTimeoutSecs) is out of range (0-86400)")
        }
    }

    /// The options as `getCmdLineOpts.parsed` reports them, shaped like mongod's.
    private func parsedOptions(_ dataPath: String, maxConns: Int) -> BSONDocument {
        var parsed: BSONDocument = [
            "net": .document([
                "bindIp": .string(host), "port": .int32(Int32(clamping: port)),
                "maxIncomingConnections": .int32(Int32(clamping: maxConns)),
                "maxIncomingBytesInFlight": .int64(Int64(maxIncomingBytesInFlight)),
                "frameReadTimeoutSecs": .int32(Int32(clamping: frameReadTimeoutSecs)),
                "compression": .document(["compressors": .string(networkMessageCompressors)]),
                "tls": .document(tls.parsedOptions),
            ]),
            "storage": .document(["dbPath": .string(dataPath), "engine": .string(storageOptions.value == nil ? "sqlite" : "postgresql")]),
            "systemLog": .document([
                "verbosity": .int32(logLevel.lowercased() == "debug" || logLevel.lowercased() == "trace" ? 1 : 0),
                "logFormat": .string(logFormat.lowercased()),
            ]),
            "operationProfiling": .document(["slowOpThresholdMs": .int32(Int32(clamping: slowMilliseconds))]),
            "security": .document(["authorization": .string(authOptions.enabled ? "enabled" : "disabled")]),
        ]
        if let setParameter = parameters.parsedDocument() { parsed.append("setParameter", .document(setParameter)) }
        return parsed
    }

    /// The limits line of the start-up banner.
    static func describeLimits(_ c: ServerConfiguration, openFiles: UInt64?) -> String {
        let budget = c.maxIncomingBytesInFlight.map { "\($0) bytes (\(formatBytes(Int64($0))))" } ?? "no cap"
        let timeout = c.frameReadTimeout.map { "\($0.nanoseconds / 1_000_000_000) s" } ?? "none"
        return "maxConns \(c.maxConnections), maxIncomingBytesInFlight \(budget), "
            + "maxMessageSizeBytes \(c.maxMessageSize), frame read timeout \(timeout), "
            + "open files \(openFiles.map { "\($0)" } ?? "unknown")"
    }

    /// Prints one line to stderr and exits with status 1.
    static func fail(_ message: String) -> Never {
        let line = message.split(whereSeparator: \.isNewline).joined(separator: " ") + EnvironmentOptions.sourceNote(for: message)
        FileHandle.standardError.write(Data("gridlite: \(line)\n".utf8))
        Foundation.exit(1)
    }

    /// A one-line cause for an error from opening storage: SQLite's message without the SQL text,
    /// the POSIX reason behind a Foundation error.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let e as SQLiteError:
            return "\(e.message) (SQLite error \(e.code))"
        case let e as NSError where e.domain != NSPOSIXErrorDomain:
            if let posix = e.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
                let path = e.userInfo[NSFilePathErrorKey].map { "\($0): " } ?? ""
                return path + DataDirectory.errnoText(Int32(clamping: posix.code))
            }
            return e.localizedDescription
        default:
            return "\(error)"
        }
    }

    /// A short description of a bind error ("Address already in use").
    static func describeBindError(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("Address already in use") || text.contains("EADDRINUSE") { return "address already in use" }
        return text
    }
}
