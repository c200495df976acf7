/// How ``SQLiteDatabase`` opens its file: pool size and the pragmas every connection gets.
/// Defaults are the measured recommendation in docs/storage.md.
public struct SQLiteConfiguration: Sendable {
    /// `PRAGMA synchronous` values that make sense in WAL mode.
    public enum Synchronous: String, Sendable {
        /// WAL is fsynced only at checkpoints: a committed write survives a process crash, not power loss.
        case normal = "NORMAL"
        /// WAL is fsynced at every commit: survives power loss too.
        case full = "FULL"
        /// No fsync at all (tests and measurements only).
        case off = "OFF"
    }

    /// The database file path.
    public var path: String
    /// How many read-only connections serve ``SQLiteDatabase/read(_:)`` concurrently.
    public var readerCount: Int = 4
    /// `sqlite3_busy_timeout` for every connection, in milliseconds.
    public var busyTimeoutMilliseconds: Int32 = 5000
    /// `PRAGMA page_size`, only effective when the file is created.
    public var pageSize: Int = 4096
    /// `PRAGMA synchronous` on the writer.
    public var synchronous: Synchronous = .normal
    /// Page cache per connection in KiB (`PRAGMA cache_size = -N`).
    public var cacheSizeKiB: Int = 16384
    /// Page cache per reader in KiB. Measured: 2 MiB made 256 MiB downloads erratic (220–690
    /// MiB/s against a steady 640–695 with 16 MiB) for ~10 MiB less peak RSS, so readers keep 16 MiB.
    public var readerCacheSizeKiB: Int = 16384
    /// `PRAGMA mmap_size` for readers in bytes (0 disables memory-mapped reads).
    public var readerMmapSize: Int = 0
    /// WAL size in pages past which the writer checkpoints after a commit; 0 disables it. Without the
    /// background checkpointer this is `PRAGMA wal_autocheckpoint`; with it, a hard cap on WAL growth.
    public var walAutoCheckpointPages: Int = 2048
    /// With the background checkpointer: the cap on WAL growth in bytes (converted to pages with the
    /// file's actual page size), overriding ``walAutoCheckpointPages`` for the cap. 2048 pages meant
    /// 128 MiB at the former 64 KiB pages but only 8 MiB at 4 KiB, which made the writer checkpoint
    /// (and fsync) itself every few hundred small commits; nil uses ``walAutoCheckpointPages``.
    public var walCapBytes: Int? = 128 << 20
    /// Called on the checkpointing thread before each checkpoint the WAL hook starts (the storage
    /// engine flushes its segment files there, so the database file never points at payload bytes
    /// that are not on disk yet).
    public var beforeCheckpoint: (@Sendable () -> Void)?
    /// Run `PRAGMA wal_checkpoint(PASSIVE)` on a separate connection and thread once the WAL holds this
    /// many bytes more than at the last request; nil disables the background checkpointer.
    public var backgroundCheckpointBytes: Int? = 32 << 20
    /// `PRAGMA journal_size_limit` in bytes: the WAL file is truncated to this after a reset.
    public var journalSizeLimit: Int = 64 << 20
    /// `PRAGMA temp_store`: keep temporary b-trees (sorts, ORDER BY without an index) in memory.
    public var tempStoreMemory: Bool = true

    /// A configuration for `path` with the recommended defaults.
    public init(path: String) {
        self.path = path
    }

    /// The pragmas the writer runs after opening, in order (page_size must precede journal_mode=WAL).
    var writerPragmas: [String] {
        var pragmas = [
            "PRAGMA page_size = \(pageSize)",
            // Only takes effect when the file is created (older files are converted by `compact`):
            // free pages can then be given back with `PRAGMA incremental_vacuum`.
            "PRAGMA auto_vacuum = INCREMENTAL",
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = \(synchronous.rawValue)",
            "PRAGMA cache_size = -\(cacheSizeKiB)",
            "PRAGMA wal_autocheckpoint = \(walAutoCheckpointPages)",
            "PRAGMA journal_size_limit = \(journalSizeLimit)",
            "PRAGMA foreign_keys = OFF",
            // Builds with SQLITE_SECURE_DELETE (Debian's) zero every freed page: deleting a file's
            // chunks would rewrite all of them, and a statement's savepoint would keep each original
            // page in its in-memory journal (a 2 GiB delete peaked above 4 GiB of RAM).
            "PRAGMA secure_delete = OFF",
        ]
        if tempStoreMemory { pragmas.append("PRAGMA temp_store = MEMORY") }
        return pragmas
    }

    /// The pragmas each reader runs after opening.
    var readerPragmas: [String] {
        var pragmas = [
            "PRAGMA cache_size = -\(readerCacheSizeKiB)",
            "PRAGMA mmap_size = \(readerMmapSize)",
        ]
        if tempStoreMemory { pragmas.append("PRAGMA temp_store = MEMORY") }
        return pragmas
    }

    /// The pragmas the background checkpointer runs after opening.
    var checkpointerPragmas: [String] {
        ["PRAGMA wal_autocheckpoint = 0", "PRAGMA synchronous = \(synchronous.rawValue)"]
    }
}
