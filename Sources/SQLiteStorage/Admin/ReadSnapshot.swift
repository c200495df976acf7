import Foundation

/// One point in time of a data directory for the tools that read beside a running daemon (or
/// offline): `fsck`, `backup` and the operator commands' ``DataDirectorySnapshot``.
///
/// It is a read transaction on the caller's connection plus the segment files that snapshot's
/// `gl_segments` lists, opened right after the first read. A segment the daemon retires between
/// that read and the open (its last live payload deleted) is gone from the directory: the
/// transaction is rolled back and a new snapshot taken; after ``maximumAttempts`` a missing file is
/// tolerated (its rows then read as unreadable, which fsck reports). The retired segment's bytes
/// stay readable through the opened descriptor for as long as the snapshot lives.
enum ReadSnapshot {
    /// Snapshots tried before a missing segment file is accepted as missing.
    static let maximumAttempts = 20

    /// Begins the read transaction on `c` and opens the segments it lists; returns them with each
    /// one's recorded sealed size and file size at the open (-1: no file). The transaction stays
    /// open: the caller commits (or rolls back) it. `tolerateMissing` accepts a missing segment file
    /// at once (offline, nobody can retire one). `afterFirstRead` runs once the snapshot exists and
    /// before the segment files are looked at (a test's way to commit a write in between).
    static func begin(
        _ c: SQLiteConnection, dataDirectory: String, tolerateMissing: Bool,
        afterFirstRead: (() throws -> Void)? = nil
    ) throws -> (blobs: BlobStore, segments: [Int64: (sealed: Int64?, size: Int64)]) {
        let directory = (dataDirectory as NSString).appendingPathComponent(SQLiteStorageEngine.blobDirectoryName)
        var attempt = 0
        while true {
            attempt += 1
            try c.exec("BEGIN DEFERRED")
            do {
                // The first read of the transaction fixes the snapshot.
                _ = try c.query("SELECT count(*) FROM gl_segments")
                try afterFirstRead?()
                let view = try BlobStore.readOnlyView(directory: directory, c,
                                                      tolerateMissing: tolerateMissing || attempt > maximumAttempts)
                return (view.0, view.1)
            } catch is BlobStore.MissingSegment {
                try? c.exec("ROLLBACK")
            } catch {
                try? c.exec("ROLLBACK")
                throw error
            }
        }
    }

    /// Runs `body` inside a snapshot begun by ``begin(_:dataDirectory:tolerateMissing:afterFirstRead:)``
    /// and ends the transaction (COMMIT after `body`, ROLLBACK when it throws).
    static func run<T>(
        _ c: SQLiteConnection, dataDirectory: String, tolerateMissing: Bool,
        afterFirstRead: (() throws -> Void)? = nil,
        _ body: (BlobStore, [Int64: (sealed: Int64?, size: Int64)]) throws -> T
    ) throws -> T {
        let (blobs, segments) = try begin(c, dataDirectory: dataDirectory, tolerateMissing: tolerateMissing,
                                          afterFirstRead: afterFirstRead)
        do {
            let result = try body(blobs, segments)
            try c.exec("COMMIT")
            return result
        } catch {
            try? c.exec("ROLLBACK")
            throw error
        }
    }
}
