import Executors
import ArgumentParser
import BSON
import Commands
import Foundation
import Logging
import Server
import SQLiteStorage
import ServiceLifecycle
import Storage

/// `gridlite serve`: runs the daemon until SIGINT or SIGTERM.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server.")

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free port).")
    var port: Int = 27017

    @Option(name: .customLong("data-dir"), help: "Directory for the database files (created if missing).")
    var dataDir: String = "./gridlite-data"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel.lowercased()) else {
            Serve.fail("unknown log level '\(logLevel)'")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "gridlite")
        FileLimit.raiseToHardLimit(logger: logger)
        let dataURL = URL(fileURLWithPath: dataDir).standardizedFileURL
        do {
            try DataDirectory.prepare(dataURL)
        } catch {
            Serve.fail("cannot use data directory \(dataURL.path): \(error)")
        }

        let storage: SQLiteStorageEngine
        do {
            storage = try await SQLiteStorageEngine.open(directory: dataURL.path, logger: logger)
        } catch {
            Serve.fail("cannot open the database in \(dataURL.path): \(error)")
        }
        let cursors = CursorRegistry()
        let counters = ServerCounters()
        let environment = ServerEnvironment(
            gridliteVersion: Gridlite.version, argv: CommandLine.arguments, parsedOptions: parsedOptions(dataURL),
            storageEngineName: "sqlite", counters: counters)
        // Connection tasks run on these threads, so SQLite calls run inline there (see BlockingExecutor).
        let executor = BlockingExecutor(maximumThreadCount: 64)
        let server: GridliteServer
        do {
            server = try await GridliteServer.bind(
                configuration: ServerConfiguration(host: host, port: port),
                dispatcher: CommandDispatcher(),
                hooks: ConnectionHooks(onClose: { id in await cursors.closeAll(connectionId: id) }),
                counters: counters, executor: executor, logger: logger
            ) { connection, connectionLogger in
                CommandContext(environment: environment, connection: connection, logger: connectionLogger,
                               storage: storage, cursors: cursors)
            }
        } catch {
            Serve.fail("cannot listen on \(host):\(port): \(Serve.describe(error))")
        }
        environment.setListenPort(server.boundPort)

        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: server), .init(service: CursorReaper.service(cursors: cursors, logger: logger)),
                    .init(service: MaintenanceService.service(storage: storage, logger: logger)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
        await storage.close()
        executor.shutdown()
    }

    /// The options as `getCmdLineOpts.parsed` reports them, shaped like mongod's.
    private func parsedOptions(_ dataURL: URL) -> BSONDocument {
        [
            "net": .document(["bindIp": .string(host), "port": .int32(Int32(clamping: port))]),
            "storage": .document(["dbPath": .string(dataURL.path), "engine": "sqlite"]),
            "systemLog": .document(["verbosity": .int32(logLevel.lowercased() == "debug" || logLevel.lowercased() == "trace" ? 1 : 0)]),
        ]
    }

    /// Prints one line to stderr and exits with status 1.
    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("gridlite: \(message)\n".utf8))
        Foundation.exit(1)
    }

    /// A short description of a bind error ("Address already in use").
    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("Address already in use") || text.contains("EADDRINUSE") { return "address already in use" }
        return text
    }
}

/// Creates and checks the data directory.
enum DataDirectory {
    /// Creates `url` if missing and checks that files can be written in it.
    static func prepare(_ url: URL) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: url.path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw DataDirectoryError("not a directory") }
        } else {
            try fm.createDirectory(at: url, withIntermediateDirectories: true)
        }
        let probe = url.appendingPathComponent(".gridlite-write-test-\(getpid())")
        guard fm.createFile(atPath: probe.path, contents: Data()) else {
            throw DataDirectoryError("not writable")
        }
        try? fm.removeItem(at: probe)
    }
}

/// A data-directory problem, printed as one line.
struct DataDirectoryError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
