import BSON
import Foundation
import Query
import Storage

/// Read-only access to a data directory for the operator commands (`stats`, `ls`, `get`,
/// `export`): one SQLite read transaction on a read-only connection plus the segment files that
/// snapshot lists, opened right away — the same way `fsck` reads beside a running daemon, so
/// these commands work whether or not a daemon serves the directory, and never block it. Every
/// document is read through its checksum (a damaged chunk fails with DataCorruptionDetected).
public final class DataDirectorySnapshot {
    let c: SQLiteConnection
    let blobs: BlobStore
    let entries: [CollectionEntry]
    /// The data directory.
    public let dataDirectory: String

    /// A GridFS file as `ls` shows it.
    public struct FileInfo: Sendable {
        /// `_id` as text (`ObjectId('…')` or relaxed JSON).
        public var id: String
        /// The `_id` value.
        public var idValue: BSONValue
        public var filename: String?
        public var length: Int64
        public var chunkSize: Int
        /// `uploadDate`, milliseconds since the epoch.
        public var uploadDate: Int64?

        /// Creates a file description (the operator commands' `--uri` mode fills it from the wire).
        public init(id: String, idValue: BSONValue, filename: String?, length: Int64, chunkSize: Int, uploadDate: Int64?) {
            self.id = id
            self.idValue = idValue
            self.filename = filename
            self.length = length
            self.chunkSize = chunkSize
            self.uploadDate = uploadDate
        }

        /// `_id` as the reports show it: `ObjectId('…')` as the mongo shell prints it, other values
        /// as relaxed extended JSON.
        public static func show(_ id: BSONValue) -> String { FsckChecker.show(id) }
    }

    /// Opens the snapshot (a daemon may be running).
    public init(dataDirectory: String) throws {
        self.dataDirectory = dataDirectory
        let path = (dataDirectory as NSString).appendingPathComponent(SQLiteStorageEngine.fileName)
        guard FileManager.default.fileExists(atPath: path) else {
            throw Fsck.Failure("\(dataDirectory) is not a gridlite data directory (no \(SQLiteStorageEngine.fileName))")
        }
        do {
            c = try SQLiteConnection(path: path, flags: .readerDefault)
        } catch {
            throw Fsck.Failure("cannot open \(path): \(error)")
        }
        blobs = try ReadSnapshot.begin(c, dataDirectory: dataDirectory, tolerateMissing: false).blobs
        guard (try CatalogSQL.storedVersion(c) ?? 0) >= CatalogSQL.schemaVersion else {
            throw Fsck.Failure("\(dataDirectory) needs the schema upgrade: start the daemon on it once")
        }
        entries = try CatalogSQL.load(c).values.sorted { $0.namespace < $1.namespace }
    }

    deinit {
        try? c.exec("ROLLBACK")
        c.close()
    }

    /// Every GridFS bucket: (database, bucket).
    public var buckets: [(database: String, bucket: String)] {
        entries.filter { $0.kind == .gridFSFiles }.compactMap { e in e.namespace.bucketName.map { (e.namespace.database, $0) } }
    }

    func entry(_ db: String, _ collection: String) -> CollectionEntry? {
        entries.first { $0.namespace.database == db && $0.namespace.collection == collection }
    }

    /// The files of a bucket, in `_id` order.
    public func files(database: String, bucket: String) throws -> [FileInfo] {
        guard let files = entry(database, "\(bucket).files") else { return [] }
        var out: [FileInfo] = []
        try c.withStatement("SELECT \(StoredDocument.columns) FROM \(files.table) ORDER BY id_key") { s in
            while try s.step() {
                guard let doc = try StoredDocument.read(s, at: 0, blobs: blobs) else { continue }
                let id = doc["_id"] ?? .null
                var name: String?
                if case .string(let n)? = doc["filename"] { name = n }
                var date: Int64?
                if case .datetime(let ms)? = doc["uploadDate"] { date = ms }
                out.append(FileInfo(id: FsckChecker.show(id), idValue: id, filename: name,
                                    length: Int64(doc["length"]?.intValue ?? 0), chunkSize: doc["chunkSize"]?.intValue ?? 0,
                                    uploadDate: date))
            }
        }
        return out
    }

    /// Writes a file's bytes to `sink` chunk by chunk (every chunk verified), checking that the
    /// chunks are complete and add up to `length`.
    public func read(_ file: FileInfo, database: String, bucket: String, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let chunks = entry(database, "\(bucket).chunks") else {
            if file.length == 0 { return }
            throw StorageError(.dataCorruptionDetected, "file \(file.id) has no chunks")
        }
        let expectedChunks = file.chunkSize > 0 ? (file.length + Int64(file.chunkSize) - 1) / Int64(file.chunkSize) : 0
        var written: Int64 = 0
        for n in 0..<expectedChunks {
            let key = IndexKeyEncoder.encode([file.idValue, .int32(Int32(truncatingIfNeeded: n))])
            let doc = try c.withStatement("SELECT \(StoredDocument.columns) FROM \(chunks.table) WHERE k = ? LIMIT 1") { s -> BSONDocument? in
                try s.bind(key, at: 1)
                return try s.step() ? StoredDocument.read(s, at: 0, blobs: blobs) : nil
            }
            guard let doc, case .binary(let data)? = doc["data"] else {
                throw StorageError(.dataCorruptionDetected, "file \(file.id) is missing chunk n=\(n)")
            }
            try data.data.withUnsafeBytes { try sink($0) }
            written += Int64(data.data.count)
        }
        guard written == file.length else {
            throw StorageError(.dataCorruptionDetected, "file \(file.id): chunks hold \(written) bytes, length says \(file.length)")
        }
    }
}

extension DataDirectorySnapshot {
    /// Per-bucket figures for `gridlite stats`.
    public struct BucketStats: Sendable {
        public var database: String
        public var bucket: String
        public var files = 0
        public var bytes: Int64 = 0
        public var chunks = 0
        /// The largest files: (name, length).
        public var largest: [(String, Int64)] = []

        /// Empty figures for one bucket.
        public init(database: String, bucket: String) {
            self.database = database
            self.bucket = bucket
        }
    }

    /// Segment space: total bytes in segment files and the dead part.
    public struct SpaceStats: Sendable {
        public var segments = 0
        public var segmentBytes: Int64 = 0
        public var deadBytes: Int64 = 0
        public var databaseBytes: Int64 = 0
    }

    /// Files, bytes and chunks per bucket (from the files documents and a count of chunk rows).
    public func bucketStats() throws -> [BucketStats] {
        var out: [BucketStats] = []
        for (db, bucket) in buckets {
            var s = BucketStats(database: db, bucket: bucket)
            let all = try files(database: db, bucket: bucket)
            s.files = all.count
            s.bytes = all.reduce(0) { $0 + $1.length }
            s.largest = all.sorted { $0.length > $1.length }.prefix(3).map { ($0.filename ?? $0.id, $0.length) }
            if let chunks = entry(db, "\(bucket).chunks") {
                s.chunks = try c.withStatement("SELECT count(*) FROM \(chunks.table)") { st in try st.step() ? Int(st.int64(0)) : 0 }
            }
            out.append(s)
        }
        return out
    }

    /// Segment and database space.
    public func spaceStats() throws -> SpaceStats {
        var s = SpaceStats()
        let active = try c.query("SELECT id FROM gl_segments WHERE sealed_size IS NULL").compactMap { row -> Int64? in
            if case .integer(let id)? = row.first { return id }
            return nil
        }
        try c.withStatement("SELECT id, sealed_size, dead FROM gl_segments") { st in
            while try st.step() {
                s.segments += 1
                let size = st.isNull(1) ? ((try? blobs.state.withLock { $0.files[st.int64(0)] }?.size()) ?? 0) ?? 0 : st.int64(1)
                s.segmentBytes += size
                s.deadBytes += st.int64(2)
            }
        }
        _ = active
        let path = (dataDirectory as NSString).appendingPathComponent(SQLiteStorageEngine.fileName)
        s.databaseBytes = Int64((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
        return s
    }
}
