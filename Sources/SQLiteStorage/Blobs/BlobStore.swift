import Foundation
import Synchronization

/// Chunk payloads of GridFS buckets, kept outside SQLite in append-only segment files
/// (`<data dir>/blobs/<id>.seg`), so a 256 MiB upload is written once with `pwrite` instead of through
/// SQLite's page cache, WAL and checkpoint. Chunk rows keep the rest of the document and a
/// ``BlobRef``; the writer appends a payload BEFORE its row's COMMIT, so an acknowledged chunk's bytes
/// are in the file (the OS page cache) before the row is, and survive `kill -9` like the row does.
///
/// Accounting lives in SQLite, changed in the writer's transactions: `gl_segments(id, sealed_size,
/// dead)`. One segment is active (`sealed_size` NULL) and takes appends until it reaches
/// ``Configuration/segmentBytes``; deleting or replacing a chunk adds its length to `dead`. A segment
/// whose bytes are all dead loses its row in the same transaction and its file after COMMIT —
/// unlinked at once, its descriptor closed when no read that might still see the old rows is running
/// (read generations, see ``beginRead()``). A rolled-back transaction's appends are cut off again.
/// See docs/storage.md ("Chunk payloads in segment files").
final class BlobStore: Sendable {
    /// Tunables.
    struct Configuration: Sendable {
        /// A segment is sealed once it holds this many bytes.
        var segmentBytes: Int64 = 256 << 20
        /// Payloads shorter than this stay inside the row (a syscall costs more than they do).
        var minimumBytes = 1024
        /// `fdatasync` the segments a transaction appended to before its COMMIT (with
        /// `synchronous = FULL`, so payloads are as durable as the rows).
        var syncOnCommit = false
        /// Maintenance compacts the active segment, and gives back the blocks reserved ahead of
        /// it, only once the writer has appended nothing for this long.
        var idleBeforeReclaiming: Duration = .seconds(5)
    }

    /// The directory of the segment files.
    let directory: String
    /// The tunables in force.
    let configuration: Configuration

    struct Active {
        var file: SegmentFile
        var size: Int64
        /// How far disk blocks are reserved (see ``SegmentFile/preallocate(from:length:)``).
        var reserved: Int64 = 0
    }

    /// At most this much is reserved ahead of the active segment's end at a time.
    static let reserveStep: Int64 = 32 << 20
    /// At least this much is reserved at a time: a segment reserves about as much as it already
    /// holds (1, 2, 4 … 32 MiB), so a segment of small files does not sit on 32 MiB of blocks.
    static let minimumReserveStep: Int64 = 1 << 20

    /// What the writer's current transaction did, so it can be committed or undone.
    struct Transaction {
        var startActive: (id: Int64, size: Int64)?
        var created: [Int64] = []
        var dead: [Int64: Int64] = [:]
        var appended: [BlobRef] = []
        var toRetire: [Int64] = []
    }

    struct State {
        var files: [Int64: SegmentFile] = [:]
        var active: Active?
        var transaction = Transaction()
        /// Segments appended to since the last ``syncDirty()``.
        var dirty: Set<Int64> = []
        var generation: UInt64 = 0
        var readers: [UInt64: Int] = [:]
        var retired: [(id: Int64, generation: UInt64)] = []
        /// When the writer last appended (reservations are given back once it has been idle).
        var lastAppend = ContinuousClock.now
    }

    /// Everything mutable, behind one lock (writer state, open files, read generations).
    let state = Mutex(State())

    /// A store over `directory` (created if missing); call ``load(_:)`` on the writer before use.
    init(directory: String, configuration: Configuration = Configuration()) throws {
        self.directory = directory
        self.configuration = configuration
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// The DDL of the accounting table.
    static let schema = """
        CREATE TABLE IF NOT EXISTS gl_segments(id INTEGER PRIMARY KEY, sealed_size INTEGER, dead INTEGER NOT NULL DEFAULT 0);
        """

    func path(_ id: Int64) -> String { "\(directory)/\(id).seg" }

    /// Opens the segments `gl_segments` lists and deletes files it does not list (left by a
    /// transaction that never committed). Runs on the writer at start-up.
    func load(_ c: SQLiteConnection) throws {
        try c.exec(Self.schema)
        var files: [Int64: SegmentFile] = [:]
        var active: Active?
        try c.withStatement("SELECT id, sealed_size FROM gl_segments") { s in
            while try s.step() {
                let id = s.int64(0)
                let file = try SegmentFile.open(id: id, path: path(id), create: true)
                files[id] = file
                if s.isNull(1) { active = Active(file: file, size: try file.size()) }
            }
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasSuffix(".seg") {
            guard let id = Int64(name.dropLast(4)), files[id] == nil else { continue }
            unlink(path(id))
        }
        state.withLock {
            $0.files = files
            $0.active = active
        }
    }

    /// After an unclean shutdown: the active segment may end with bytes a transaction appended but
    /// never committed. They are neither referenced nor counted dead, so the segment could never be
    /// reclaimed; this counts them dead (size − referenced − dead), given the tables that can hold
    /// references. Returns the bytes it found. Runs on the writer at start-up, inside a transaction.
    func reconcileActive(_ c: SQLiteConnection, tables: [String]) throws -> Int64 {
        guard let active = state.withLock({ $0.active }) else { return 0 }
        let id = active.file.id
        var referenced: Int64 = 0
        for table in tables {
            referenced += try c.withStatement("SELECT COALESCE(SUM(len), 0) FROM \(table) WHERE seg = ?") { s in
                try s.bind(id, at: 1)
                return try s.step() ? s.int64(0) : 0
            }
        }
        let dead = try c.withStatement("SELECT dead FROM gl_segments WHERE id = ?") { s in
            try s.bind(id, at: 1)
            return try s.step() ? s.int64(0) : 0
        }
        let unaccounted = active.size - referenced - dead
        guard unaccounted > 0 else { return 0 }
        _ = try c.execute("UPDATE gl_segments SET dead = dead + ? WHERE id = ?", [.integer(unaccounted), .integer(id)])
        return unaccounted
    }

    // MARK: Writer side (the writer's thread only, inside its transaction)

    /// Starts tracking a write transaction.
    func beginTransaction() {
        state.withLock { s in
            s.transaction = Transaction(startActive: s.active.map { ($0.file.id, $0.size) })
        }
    }

    /// Appends `bytes` to the active segment (sealing it and starting a new one when full).
    func append(_ c: SQLiteConnection, _ bytes: UnsafeRawBufferPointer) throws -> BlobRef {
        let length = Int64(bytes.count)
        var target = state.withLock { $0.active }
        if let current = target, current.size > 0, current.size + length > configuration.segmentBytes {
            try seal(c, current)
            target = nil
        }
        if target == nil {
            _ = try c.execute("INSERT INTO gl_segments(sealed_size, dead) VALUES (NULL, 0)")
            let id = c.lastInsertRowID
            let file = try SegmentFile.open(id: id, path: path(id), create: true)
            try file.truncate(to: 0)
            target = Active(file: file, size: 0)
            state.withLock { s in
                s.files[id] = file
                s.transaction.created.append(id)
            }
        }
        guard var active = target else { throw BlobStoreError("no active segment") }
        if active.size + length > active.reserved {
            let step = max(Self.reserveStep(forSize: active.size), length)
            let end = min(max(active.size + length, active.reserved + step), max(configuration.segmentBytes, active.size + length))
            active.file.preallocate(from: active.reserved, length: end - active.reserved)
            active.reserved = end
        }
        try active.file.write(bytes, at: active.size)
        let ref = BlobRef(segment: active.file.id, offset: active.size, length: bytes.count)
        active.size += length
        state.withLock { s in
            s.active = active
            s.transaction.appended.append(ref)
            s.dirty.insert(ref.segment)
            s.lastAppend = .now
        }
        return ref
    }

    /// How much to reserve past the end of an active segment holding `size` bytes: about `size`,
    /// between ``minimumReserveStep`` and ``reserveStep``.
    static func reserveStep(forSize size: Int64) -> Int64 {
        min(reserveStep, max(minimumReserveStep, size))
    }

    /// Seals `active` (inside the writer's transaction): it takes no more appends and its blocks
    /// reserved past the end are given back. The next append starts a new segment.
    func seal(_ c: SQLiteConnection, _ active: Active) throws {
        _ = try c.execute("UPDATE gl_segments SET sealed_size = ? WHERE id = ?", [.integer(active.size), .integer(active.file.id)])
        // Give back blocks reserved past the sealed end (a truncation to the same size frees them).
        try active.file.truncate(to: active.size)
        state.withLock { s in
            if s.active?.file.id == active.file.id { s.active = nil }
        }
    }

    /// Runs `body` in a SAVEPOINT (``SQLiteConnection/transaction(_:_:)`` nested in the writer's
    /// transaction). If it rolls back, the dead bytes it counted are forgotten (its deletes are undone)
    /// and what it appended is counted dead instead (those rows are gone).
    func savepoint<T>(_ c: SQLiteConnection, _ body: () throws -> T) throws -> T {
        let (dead, appended) = state.withLock { ($0.transaction.dead, $0.transaction.appended.count) }
        do {
            return try c.transaction { try body() }
        } catch {
            state.withLock { s in
                s.transaction.dead = dead
                for ref in s.transaction.appended[appended...] { s.transaction.dead[ref.segment, default: 0] += Int64(ref.length) }
                s.transaction.appended.removeSubrange(appended...)
            }
            throw error
        }
    }

    /// Counts `bytes` of segment `segment` as dead (a chunk deleted or replaced, or an append whose
    /// row was not written).
    func release(segment: Int64, bytes: Int64) {
        guard bytes > 0 else { return }
        state.withLock { $0.transaction.dead[segment, default: 0] += bytes }
    }

    /// Counts a payload as dead.
    func release(_ ref: BlobRef) {
        release(segment: ref.segment, bytes: Int64(ref.length))
    }

    /// Writes the transaction's dead bytes into `gl_segments`, dropping the rows of segments that
    /// became entirely dead. Call inside the transaction, just before COMMIT.
    func prepareCommit(_ c: SQLiteConnection) throws {
        if configuration.syncOnCommit {
            let touched = state.withLock { s in Set(s.transaction.appended.map(\.segment)).compactMap { s.files[$0] } }
            for file in touched {
                guard file.syncChecked() else { throw BlobStoreError("cannot flush segment \(file.path): \(errnoText())") }
            }
        }
        let (dead, active) = state.withLock { ($0.transaction.dead, $0.active) }
        guard !dead.isEmpty else { return }
        var retire: [Int64] = []
        try c.withStatement("UPDATE gl_segments SET dead = dead + ? WHERE id = ? RETURNING dead, sealed_size") { s in
            for (segment, bytes) in dead.sorted(by: { $0.key < $1.key }) {
                try s.bind(bytes, at: 1)
                try s.bind(segment, at: 2)
                guard try s.step() else { s.reset(); continue }
                let total = s.isNull(1) ? (active?.file.id == segment ? active?.size ?? .max : .max) : s.int64(1)
                if s.int64(0) >= total { retire.append(segment) }
                s.reset()
            }
        }
        for segment in retire {
            _ = try c.execute("DELETE FROM gl_segments WHERE id = ?", [.integer(segment)])
        }
        state.withLock { s in
            s.transaction.toRetire = retire
            if let a = s.active, retire.contains(a.file.id) { s.active = nil }
        }
    }

    /// The transaction committed: segments that became dead are unlinked.
    func didCommit() {
        let retire = state.withLock { s in
            let r = s.transaction.toRetire
            s.transaction = Transaction()
            return r
        }
        if !retire.isEmpty { self.retire(retire) }
    }

    /// The transaction rolled back: its new segments are deleted and the active one is cut back.
    func didRollback() {
        let (txn, files) = state.withLock { s in
            let txn = s.transaction
            s.transaction = Transaction()
            for id in txn.created { s.files[id] = nil }
            if let start = txn.startActive, let file = s.files[start.id] {
                s.active = Active(file: file, size: start.size)
            } else {
                s.active = nil
            }
            return (txn, s.files)
        }
        for id in txn.created { unlink(path(id)) }
        if let start = txn.startActive, let file = files[start.id] {
            try? file.truncate(to: start.size)
        }
    }

}
