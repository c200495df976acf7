import Foundation
import Logging

/// `gridlite restore`: puts a backup back as a data directory. Refuses a backup without its
/// manifest (incomplete) or whose files disagree with it, checks the backup with fsck first, copies
/// it into a staging directory inside the target, and only then swaps it in. The target must be
/// empty or new unless `force` (which replaces its database and segments); a daemon holding the
/// target's lock is never overridden.
public enum Restore {
    /// What restore did.
    public struct Result: Sendable {
        /// The backup's manifest.
        public var manifest: BackupManifest
        /// Bytes copied.
        public var bytes: Int64
        /// Documents fsck verified in the backup.
        public var documentsVerified: Int
    }

    public static func run(from backup: String, dataDirectory: String, force: Bool,
                           progress: (@Sendable (Int64, Int64) -> Void)?, logger: Logger) async throws -> Result {
        let fm = FileManager.default
        guard let manifest = BackupManifest.load(backup) else {
            throw Fsck.Failure("\(backup) holds no complete backup (no readable \(BackupManifest.fileName); an interrupted backup has none)")
        }
        let database = (backup as NSString).appendingPathComponent(SQLiteStorageEngine.fileName)
        let blobs = (backup as NSString).appendingPathComponent(SQLiteStorageEngine.blobDirectoryName)
        guard (try? fm.attributesOfItem(atPath: database)[.size] as? Int).map({ Int64($0) }) == manifest.databaseBytes else {
            throw Fsck.Failure("\(database) does not match the manifest (size); the backup is damaged")
        }
        for segment in manifest.segments {
            let path = (blobs as NSString).appendingPathComponent("\(segment.id).seg")
            guard (try? fm.attributesOfItem(atPath: path)[.size] as? Int).map({ Int64($0) }) == segment.bytes else {
                throw Fsck.Failure("\(path) is missing or does not match the manifest; the backup is damaged")
            }
        }
        // The target: new, or empty, or (with force) replaced — never under a running daemon.
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: dataDirectory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw Fsck.Failure("\(dataDirectory) exists and is not a directory") }
        } else {
            try fm.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        }
        let lock = try DataDirectoryLock.forTool(directory: dataDirectory)
            .required(dataDirectory, "a data directory in use is never restored over (stop the daemon first)")
        defer { lock.release() }
        let existing = ((try? fm.contentsOfDirectory(atPath: dataDirectory)) ?? []).filter { $0 != DataDirectoryLock.fileName }
        guard existing.isEmpty || force else {
            throw Fsck.Failure("\(dataDirectory) is not empty; restore into an empty directory, or pass --force to replace its data")
        }
        // Verify the backup itself (read-only use of the copy; its database is not changed).
        let staging = (dataDirectory as NSString).appendingPathComponent(".restore-staging")
        try? fm.removeItem(atPath: staging)
        try fm.createDirectory(atPath: (staging as NSString).appendingPathComponent(SQLiteStorageEngine.blobDirectoryName),
                               withIntermediateDirectories: true)
        let total = manifest.databaseBytes + manifest.segments.reduce(0) { $0 + $1.bytes }
        var done: Int64 = 0
        progress?(0, total)
        try FileCopy.copyFile(database, to: (staging as NSString).appendingPathComponent(SQLiteStorageEngine.fileName)) { progress?($0, total) }
        done += manifest.databaseBytes
        for segment in manifest.segments {
            let base = done
            try FileCopy.copyFile((blobs as NSString).appendingPathComponent("\(segment.id).seg"),
                                  to: (staging as NSString).appendingPathComponent("\(SQLiteStorageEngine.blobDirectoryName)/\(segment.id).seg")) {
                progress?(base + $0, total)
            }
            done += segment.bytes
        }
        FileCopy.syncDirectory((staging as NSString).appendingPathComponent(SQLiteStorageEngine.blobDirectoryName))
        // Tolerant of what backups of earlier versions carried (see below); today's are clean.
        var verify = FsckOptions()
        verify.youngOrphansAreProblems = false
        var report = try Fsck.check(dataDirectory: staging, options: verify, online: false, activeTailMayBeUncommitted: true)
        if report.isClean, report.inFlightOrphanChunks > 0 || report.activeTailBytes > 0 {
            // A backup made before backups left these out: chunks of uploads that were in flight
            // at the snapshot (no client will ever finish them in the restored copy) and bytes at
            // the end of the active segment no committed row accounts for. They are removed (and
            // their space reclaimed), so the restored directory is clean for a plain fsck.
            var repair = FsckOptions()
            repair.repair = true
            repair.graceSeconds = 0
            report = try await FsckRepair.run(dataDirectory: staging, options: repair, logger: logger)
            logger.notice("restore: removed \(report.repairs.count > 0 ? report.repairs.joined(separator: "; ") : "nothing") (uploads in flight when the backup was taken)")
        }
        guard report.isClean else {
            try? fm.removeItem(atPath: staging)
            throw Fsck.Failure("fsck of the backup found \(report.problems.count) problem(s) (first: \(report.problems.first?.detail ?? "")); nothing was restored")
        }
        // Swap in: the old data (with force) goes, the staged copy takes its place.
        for name in existing where name != ".restore-staging" {
            try fm.removeItem(atPath: (dataDirectory as NSString).appendingPathComponent(name))
        }
        for name in try fm.contentsOfDirectory(atPath: staging) {
            try fm.moveItem(atPath: (staging as NSString).appendingPathComponent(name),
                            toPath: (dataDirectory as NSString).appendingPathComponent(name))
        }
        try fm.removeItem(atPath: staging)
        FileCopy.syncDirectory(dataDirectory)
        logger.notice("restored \(backup) (taken \(manifest.createdAt)) into \(dataDirectory): \(done) bytes, \(report.documentsChecked) documents verified")
        return Result(manifest: manifest, bytes: done, documentsVerified: report.documentsChecked)
    }
}
