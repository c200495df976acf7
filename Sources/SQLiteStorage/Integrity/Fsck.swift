import Foundation
import Logging
import Storage

/// `gridlite fsck`: checks a data directory offline (the directory's lock is free: fsck takes it)
/// or beside a running daemon (the daemon holds the lock: fsck reads one SQLite snapshot through a
/// read-only connection and opens the segments that snapshot lists before reading a row, so it
/// never blocks the daemon's writers and sees exactly one committed state). `--repair` needs the
/// lock. See docs/operations.md.
public enum Fsck {
    /// Why fsck could not run (exit status 2).
    public struct Failure: Error, CustomStringConvertible {
        /// One line for the operator.
        public let description: String
        /// Creates a failure.
        public init(_ description: String) { self.description = description }
    }

    /// Runs the checks (and with `options.repair`, the repairs) on `dataDirectory`.
    public static func run(dataDirectory: String, options: FsckOptions, logger: Logger) async throws -> FsckReport {
        let database = (dataDirectory as NSString).appendingPathComponent(SQLiteStorageEngine.fileName)
        guard FileManager.default.fileExists(atPath: database) else {
            throw Failure("\(dataDirectory) is not a gridlite data directory (no \(SQLiteStorageEngine.fileName))")
        }
        let access = try DataDirectoryLock.forTool(directory: dataDirectory)
        if options.repair {
            _ = try access.required(dataDirectory, "stop it before --repair (a check without --repair runs online)")
        }
        let lock = access.lock
        defer { lock?.release() }
        if options.repair {
            return try await FsckRepair.run(dataDirectory: dataDirectory, options: options, logger: logger)
        }
        return try check(dataDirectory: dataDirectory, options: options, online: lock == nil)
    }

    /// The checks alone, on a fresh connection inside one read transaction.
    static func check(dataDirectory: String, options: FsckOptions, online: Bool, activeTailMayBeUncommitted: Bool? = nil) throws -> FsckReport {
        let path = (dataDirectory as NSString).appendingPathComponent(SQLiteStorageEngine.fileName)
        let c: SQLiteConnection
        do {
            // Offline a read-write connection, so SQLite can replay a WAL left by a crash.
            c = try SQLiteConnection(path: path, flags: online ? .readerDefault : [.readWrite, .noMutex, .extendedResultCodes])
        } catch {
            throw Failure("cannot open \(path): \(error)")
        }
        defer { c.close() }
        let version = try CatalogSQL.storedVersion(c) ?? 0
        guard version >= CatalogSQL.schemaVersion else {
            throw Failure("\(dataDirectory) is at schema version \(version); start the daemon once (or run fsck --repair) to upgrade it to \(CatalogSQL.schemaVersion)")
        }
        return try ReadSnapshot.run(c, dataDirectory: dataDirectory, tolerateMissing: !online) { blobs, segments in
            let entries = try CatalogSQL.load(c).values.map { $0 }
            var checker = FsckChecker(c: c, blobs: blobs, segments: segments, entries: entries, options: options,
                                      online: activeTailMayBeUncommitted ?? online, dataDirectory: dataDirectory)
            try checker.run()
            return checker.report
        }
    }
}
