/// What `gridlite fsck` found in a data directory: per bucket and per collection, the problems by
/// kind with the affected documents, the segment accounting, and (after `--repair`) what was done.
public struct FsckReport: Sendable {
    /// The kinds of problem fsck reports.
    public enum Kind: String, Sendable, CaseIterable {
        /// SQLite's `integrity_check` did not answer "ok".
        case sqliteIntegrity = "sqlite_integrity"
        /// A document's bytes do not match its stored checksum.
        case checksumMismatch = "checksum_mismatch"
        /// A payload cannot be read: its segment file is missing or too short.
        case payloadUnreadable = "payload_unreadable"
        /// A row has no checksum (written before checksums, and unreadable when they were computed).
        case missingChecksum = "missing_checksum"
        /// A row's bytes are not a BSON document.
        case unparseable = "unparseable_document"
        /// A files document without a usable `length` or `chunkSize`.
        case badFilesDocument = "bad_files_document"
        /// A chunk a file's length needs is not there.
        case missingChunk = "missing_chunk"
        /// A chunk past the end of the file (or with a negative `n`).
        case extraChunk = "extra_chunk"
        /// A chunk whose payload is not `chunkSize` bytes (the last one: the remainder).
        case wrongChunkSize = "wrong_chunk_size"
        /// The (undamaged) chunks add up to another length than `length`.
        case lengthMismatch = "length_mismatch"
        /// Chunks whose `files_id` has no files document.
        case orphanChunks = "orphan_chunks"
        /// More than one chunk with the same `(files_id, n)`.
        case duplicateChunk = "duplicate_chunk"
        /// A segment's live + dead bytes disagree with its size.
        case segmentAccounting = "segment_accounting"
        /// A segment file is shorter than its recorded size, or missing.
        case segmentBounds = "segment_bounds"
    }

    /// One problem.
    public struct Problem: Sendable {
        /// What is wrong.
        public var kind: Kind
        /// The database, when the problem belongs to one.
        public var database: String?
        /// The bucket (or collection) it was found in.
        public var collection: String?
        /// The affected file's id (relaxed extended JSON), when known.
        public var filesId: String?
        /// The affected file's name, when known.
        public var filename: String?
        /// The chunk number, when the problem is one chunk's.
        public var n: Int?
        /// A sentence for humans.
        public var detail: String
    }

    /// A file kept in a `<bucket>.quarantine` bucket.
    public struct Quarantined: Sendable {
        /// The database.
        public var database: String
        /// The quarantine bucket (`fs.quarantine`).
        public var bucket: String
        /// The file id (relaxed extended JSON).
        public var filesId: String
        /// Its name, when it has one.
        public var filename: String?
        /// Why it was quarantined.
        public var reason: String
    }

    /// Per-bucket figures.
    public struct BucketSummary: Sendable {
        /// The database.
        public var database: String
        /// The bucket name (`fs`).
        public var bucket: String
        /// Files documents checked.
        public var files = 0
        /// Chunks checked.
        public var chunks = 0
        /// Payload bytes read and verified.
        public var bytesVerified: Int64 = 0
        /// Problems found in this bucket, by kind.
        public var problems: [Kind: Int] = [:]
        /// True for a `<bucket>.quarantine` bucket (its files are listed, not counted as problems).
        public var isQuarantine = false
    }

    /// `online` (a daemon held the data directory; checked in one read snapshot) or `offline`.
    public var mode: String
    /// The data directory.
    public var dataDirectory: String
    /// Every document checked (all collections in scope).
    public var documentsChecked = 0
    /// Every byte whose checksum was verified.
    public var bytesVerified: Int64 = 0
    /// Segments checked.
    public var segmentsChecked = 0
    /// Per bucket.
    public var buckets: [BucketSummary] = []
    /// Every problem, in the order found.
    public var problems: [Problem] = []
    /// Files in quarantine buckets.
    public var quarantined: [Quarantined] = []
    /// Orphan chunks of uploads in flight (only counted when young orphans are not problems).
    public var inFlightOrphanChunks = 0
    /// Bytes at the end of an active segment that no committed row accounts for, tolerated in an
    /// online check (a write in flight); an offline check reports them as a problem instead.
    public var activeTailBytes: Int64 = 0
    /// What `--repair` did, one line per action.
    public var repairs: [String] = []
    /// Seconds the check took.
    public var seconds: Double = 0

    /// True when nothing is wrong (quarantined files are not problems).
    public var isClean: Bool { problems.isEmpty }

    /// Problems by kind, over all buckets.
    public var problemCounts: [Kind: Int] {
        problems.reduce(into: [:]) { $0[$1.kind, default: 0] += 1 }
    }
}

/// What fsck is doing, for a progress bar.
public struct FsckProgress: Sendable {
    /// Documents checked so far.
    public var documents: Int
    /// Documents to check in all.
    public var totalDocuments: Int
    /// Payload bytes verified so far.
    public var bytes: Int64
    /// Payload bytes to verify in all.
    public var totalBytes: Int64
}

/// What fsck should check and whether to repair.
public struct FsckOptions: Sendable {
    /// Only this database (nil: all).
    public var database: String?
    /// Only this bucket (nil: all, and every other collection's checksums too).
    public var bucket: String?
    /// Repair what was found (offline only).
    public var repair = false
    /// Orphan chunks younger than this (by their `files_id` ObjectId's time) are left alone:
    /// they may belong to an upload in flight.
    public var graceSeconds: Double = 3600
    /// When false, orphan chunks younger than ``graceSeconds`` (by their `files_id` ObjectId) are
    /// uploads in flight, counted in ``FsckReport/inFlightOrphanChunks`` instead of reported as
    /// problems (backup and restore verify a snapshot taken while clients upload).
    public var youngOrphansAreProblems = true
    /// Called now and then while checking.
    public var progress: (@Sendable (FsckProgress) -> Void)?

    /// Checks everything, repairs nothing.
    public init() {}
}
