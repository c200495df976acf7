import Foundation
import Logging

/// `gridlite backup`: a consistent copy of a data directory while the daemon serves (or offline).
///
/// One read transaction on the source database is the point in time. Inside it: the segment files
/// that snapshot lists are opened (their bytes are append-only, and a retired segment stays
/// readable through the open descriptor), the database is copied with SQLite's online backup API
/// (one step, through the same transaction), and each segment is copied up to the size it had —
/// a sealed segment's recorded size, the active one's size at the snapshot, which covers every
/// payload a committed row of the snapshot references. The copy is then checked with fsck, and
/// only then is `manifest.json` written (durably, last). An interrupted backup leaves no manifest,
/// and restore refuses a backup without one. `--incremental` keeps sealed segments the previous
/// backup in the same directory already holds (same id, same size, sealed then and now).
public enum Backup {
    /// What to do and how to report progress.
    public struct Options: Sendable {
        /// Keep sealed segments already in the target from the previous backup.
        public var incremental = false
        /// Called with bytes copied so far and the total to copy.
        public var progress: (@Sendable (Int64, Int64) -> Void)?
        /// Runs once the snapshot exists, before its segment files are looked at (tests commit a
        /// write here to check that nothing after the snapshot gets into the copy).
        var afterSnapshot: (@Sendable () throws -> Void)?
        /// Copies everything.
        public init() {}
    }

    /// The marker of a backup in progress (removed when the manifest is written).
    static let inProgressName = "backup-in-progress"

    /// Backs `dataDirectory` up into `target`; returns the manifest written.
    public static func run(dataDirectory: String, to target: String, options: Options, logger: Logger) async throws -> BackupManifest {
        let started = ContinuousClock.now
        let fm = FileManager.default
        let sourceDB = (dataDirectory as NSString).appendingPathComponent(SQLiteStorageEngine.fileName)
        guard fm.fileExists(atPath: sourceDB) else {
            throw Fsck.Failure("\(dataDirectory) is not a gridlite data directory (no \(SQLiteStorageEngine.fileName))")
        }
        let realSource = URL(fileURLWithPath: dataDirectory).resolvingSymlinksInPath().path
        let realTarget = URL(fileURLWithPath: target).resolvingSymlinksInPath().path
        guard realSource != realTarget, !realTarget.hasPrefix(realSource + "/") else {
            throw Fsck.Failure("the backup directory must be outside the data directory")
        }
        try prepareTarget(target)
        let previous = options.incremental ? BackupManifest.load(target) : nil
        // From here on the target holds no valid backup until the new manifest is written.
        let marker = (target as NSString).appendingPathComponent(inProgressName)
        try FileCopy.writeDurably(Data("started \(Date())\n".utf8), to: marker)
        try? fm.removeItem(atPath: (target as NSString).appendingPathComponent(BackupManifest.fileName))

        // Online (a daemon holds the lock) or offline (we hold it while copying).
        let lock = try DataDirectoryLock.forTool(directory: dataDirectory).lock
        defer { lock?.release() }
        let online = lock == nil
        let source: SQLiteConnection
        do {
            source = try SQLiteConnection(path: sourceDB, flags: online ? .readerDefault : [.readWrite, .noMutex, .extendedResultCodes])
        } catch {
            throw Fsck.Failure("cannot open \(sourceDB): \(error)")
        }
        defer { source.close() }
        let targetBlobs = (target as NSString).appendingPathComponent(SQLiteStorageEngine.blobDirectoryName)
        try fm.createDirectory(atPath: targetBlobs, withIntermediateDirectories: true)

        var copied: Int64 = 0
        var segments: [BackupManifest.Segment] = []
        var schemaVersion = 0
        var databaseBytes: Int64 = 0
        try ReadSnapshot.run(source, dataDirectory: dataDirectory, tolerateMissing: !online,
                             afterFirstRead: options.afterSnapshot) { blobs, sizes in
            copied = 0
            segments = []
            schemaVersion = try CatalogSQL.storedVersion(source) ?? 0
            // Where each active segment's committed bytes end in this snapshot: the file may hold
            // more (a write in flight, or one committed after the snapshot began).
            let committed = try committedEnds(source)
            // The database, through this transaction.
            let partial = (target as NSString).appendingPathComponent(SQLiteStorageEngine.fileName + ".partial")
            try? fm.removeItem(atPath: partial)
            do {
                let destination = try SQLiteConnection(path: partial)
                defer { destination.close() }
                try source.backup(into: destination)
            }
            try FileCopy.syncFile(partial)
            databaseBytes = Int64((try? fm.attributesOfItem(atPath: partial)[.size] as? Int) ?? 0)
            copied = databaseBytes
            // The segments, each up to its size in the snapshot.
            let files = blobs.state.withLock { $0.files }
            var total: Int64 = databaseBytes
            var plan: [(id: Int64, bytes: Int64, sealed: Bool, keep: Bool)] = []
            for id in sizes.keys.sorted() {
                guard let info = sizes[id], info.size >= 0 else { continue }
                let bytes = min(info.sealed ?? committed[id] ?? info.size, info.size)
                let path = (targetBlobs as NSString).appendingPathComponent("\(id).seg")
                let keep = info.sealed != nil && (previous?.segments.contains { $0.id == id && $0.sealed && $0.bytes == bytes } ?? false)
                    && ((try? fm.attributesOfItem(atPath: path)[.size] as? Int).map { Int64($0) } ?? -1) == bytes
                plan.append((id, bytes, info.sealed != nil, keep))
                if !keep { total += bytes }
            }
            options.progress?(copied, total)
            for item in plan {
                let path = (targetBlobs as NSString).appendingPathComponent("\(item.id).seg")
                if !item.keep, let file = files[item.id] {
                    let base = copied
                    try FileCopy.copy(file, count: item.bytes, to: path) { done in options.progress?(base + done, total) }
                    copied += item.bytes
                }
                segments.append(.init(id: item.id, bytes: item.bytes, sealed: item.sealed, copied: !item.keep))
            }
        }
        // Segment files of an earlier backup that this snapshot no longer has.
        let wanted = Set(segments.map { "\($0.id).seg" })
        for name in (try? fm.contentsOfDirectory(atPath: targetBlobs)) ?? [] where !wanted.contains(name) {
            try? fm.removeItem(atPath: (targetBlobs as NSString).appendingPathComponent(name))
        }
        FileCopy.syncDirectory(targetBlobs)
        let database = (target as NSString).appendingPathComponent(SQLiteStorageEngine.fileName)
        for suffix in ["-wal", "-shm"] { try? fm.removeItem(atPath: database + suffix) }
        guard rename(database + ".partial", database) == 0 else {
            throw Fsck.Failure("cannot rename \(database).partial: \(errnoText())")
        }
        FileCopy.syncDirectory(target)

        // Verify the copy before calling it a backup, with the checks of a plain `gridlite fsck`.
        // Chunks of uploads in flight at the snapshot (no files document yet) belong to no file:
        // they are left out of the copy first, so it is as clean as a quiet directory.
        let (report, excluded) = try await verifyExcludingInFlight(target, logger: logger)
        // The copy was closed cleanly (SQLite folds its log into the file then); a log left over
        // would hold committed changes, so a non-empty one is never thrown away.
        if ((try? fm.attributesOfItem(atPath: database + "-wal")[.size] as? Int) ?? 0) > 0 {
            throw Fsck.Failure("the backup copy \(database) still has a write-ahead log after verification")
        }
        for suffix in ["-wal", "-shm"] { try? fm.removeItem(atPath: database + suffix) }
        databaseBytes = Int64((try? fm.attributesOfItem(atPath: database)[.size] as? Int) ?? 0)
        if excluded > 0 {
            segments = segments.filter { fm.fileExists(atPath: (targetBlobs as NSString).appendingPathComponent("\($0.id).seg")) }
            logger.notice("backup: left out \(excluded) chunk(s) of uploads in flight at the snapshot (no files document yet)")
        }
        let seconds = Double((ContinuousClock.now - started).components.seconds) + Double((ContinuousClock.now - started).components.attoseconds) / 1e18
        let manifest = BackupManifest(
            createdAt: ISO8601DateFormatter().string(from: Date()), source: realSource, mode: online ? "online" : "offline",
            schemaVersion: schemaVersion, databaseBytes: databaseBytes, segments: segments, bytesCopied: copied,
            seconds: seconds, verified: report.isClean, documentsVerified: report.documentsChecked, problems: report.problems.count,
            inFlightChunks: excluded)
        try manifest.write(target)
        try? fm.removeItem(atPath: marker)
        FileCopy.syncDirectory(target)
        if !report.isClean {
            logger.error("backup of \(dataDirectory) written to \(target), but fsck of the copy found \(report.problems.count) problem(s) (\(report.problems.prefix(3).map { "\($0.kind.rawValue): \($0.detail)" }.joined(separator: "; "))); run gridlite fsck on the source")
        }
        return manifest
    }

    /// The target must be new, empty, or an earlier (possibly interrupted) backup.
    private static func prepareTarget(_ target: String) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: target, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw Fsck.Failure("\(target) exists and is not a directory") }
            let names = (try? fm.contentsOfDirectory(atPath: target)) ?? []
            let isBackup = names.contains(BackupManifest.fileName) || names.contains(inProgressName)
            guard names.isEmpty || isBackup else {
                throw Fsck.Failure("\(target) is not empty and holds no gridlite backup; give an empty or new directory")
            }
        } else {
            try fm.createDirectory(atPath: target, withIntermediateDirectories: true)
        }
    }
}
