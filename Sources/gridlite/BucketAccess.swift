import ArgumentParser
import BSON
import Foundation
import SQLiteStorage

/// One GridFS file as the operator commands list and fetch it.
typealias BucketFile = DataDirectorySnapshot.FileInfo

/// Where the operator commands (`stats`, `ls`, `get`, `put`, `export`, `import`) read and write
/// buckets: a data directory (``LocalBuckets``) or a running daemon over the wire protocol
/// (``RemoteBuckets``). Reads verify every chunk (locally through its checksum; remotely the
/// daemon does, and a damaged chunk fails the command).
protocol BucketAccess: AnyObject {
    /// The files of a bucket, in `_id` order.
    func files(database: String, bucket: String) throws -> [BucketFile]
    /// Streams a file's bytes to `sink`, checking that its chunks are complete and add up to `length`.
    func read(_ file: BucketFile, database: String, bucket: String, to sink: (UnsafeRawBufferPointer) throws -> Void) throws
    /// Stores a chunk batch, then (``storeFile(_:database:bucket:)``) the files document.
    func storeChunks(_ chunks: [BSONDocument], database: String, bucket: String) async throws
    /// Stores a files document (after all its chunks).
    func storeFile(_ file: BSONDocument, database: String, bucket: String) async throws
    /// Files, bytes, chunks and largest files per bucket.
    func bucketStats() throws -> [DataDirectorySnapshot.BucketStats]
    /// Segment and database space (nil when not known from here).
    func spaceStats() throws -> DataDirectorySnapshot.SpaceStats?
    /// How many chunk bytes one ``storeChunks(_:database:bucket:)`` batch may carry.
    var batchBytes: Int { get }
    /// Releases what it holds (the data directory's lock, the connection).
    func close() async
}

/// The options of every operator command that reads or writes buckets: where (`--data-dir` or
/// `--uri`, exactly one) and the output style. See ``open(_:forWriting:)``.
struct TargetOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "The data directory (reads work while a daemon serves it; writes need it stopped).")
    var dataDir: String?

    @Option(help: ArgumentHelp("A running daemon instead: mongodb://[user:password@]host[:port][/?authSource=…]",
                               discussion: "The command then speaks the wire protocol to it (SCRAM authentication when the URI names a user; TLS with tls=true, tlsCAFile=…, tlsCertificateKeyFile=…, tlsAllowInvalidCertificates, tlsAllowInvalidHostnames, tlsInsecure)."))
    var uri: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard (dataDir == nil) != (uri == nil) else { throw ValidationError("give exactly one of --data-dir and --uri") }
    }

    /// The data directory as an absolute path ("" with `--uri`).
    var path: String { dataDir.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? "" }

    /// Opens the target for `command` (exit status 2 with a one-line reason when it cannot).
    func open(_ command: String) -> any BucketAccess {
        do {
            if let uri { return try RemoteBuckets(WireClient.connect(MongoURI(uri))) }
            return LocalBuckets(dataDirectory: path, command: command)
        } catch {
            CLIOutput.fail(command, "\(error)")
        }
    }
}

/// `--data-dir` (required) and `--json`: the options fsck, backup and restore share.
struct DataDirectoryOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "The data directory (fsck and backup: a daemon may be serving it).")
    var dataDir: String

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    /// The data directory as an absolute path.
    var path: String { URL(fileURLWithPath: dataDir).standardizedFileURL.path }
}

/// Which bucket: `--db` and `--bucket`.
struct BucketOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: "The database.")
    var database: String = "test"

    @Option(help: "The bucket.")
    var bucket: String = "fs"
}

/// A data directory: reads through one read-only snapshot (beside a running daemon or not), writes
/// through the engine opened offline (which takes the directory's lock; refused while a daemon
/// serves it — use `--uri` then).
final class LocalBuckets: BucketAccess {
    let dataDirectory: String
    let command: String
    private var cachedSnapshot: DataDirectorySnapshot?
    private var writer: OfflineBucketWriter?

    init(dataDirectory: String, command: String) {
        self.dataDirectory = dataDirectory
        self.command = command
    }

    private func snapshot() throws -> DataDirectorySnapshot {
        if let cachedSnapshot { return cachedSnapshot }
        let made = try DataDirectorySnapshot(dataDirectory: dataDirectory)
        cachedSnapshot = made
        return made
    }

    private func openWriter() async throws -> OfflineBucketWriter {
        if let writer { return writer }
        let made = try await OfflineBucketWriter.open(dataDirectory, command: command)
        writer = made
        return made
    }

    func files(database: String, bucket: String) throws -> [BucketFile] {
        try snapshot().files(database: database, bucket: bucket)
    }

    func read(_ file: BucketFile, database: String, bucket: String, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try snapshot().read(file, database: database, bucket: bucket, to: sink)
    }

    func storeChunks(_ chunks: [BSONDocument], database: String, bucket: String) async throws {
        try await openWriter().insert(chunks, into: "\(bucket).chunks", database: database)
    }

    func storeFile(_ file: BSONDocument, database: String, bucket: String) async throws {
        try await openWriter().insert([file], into: "\(bucket).files", database: database)
    }

    func bucketStats() throws -> [DataDirectorySnapshot.BucketStats] { try snapshot().bucketStats() }

    func spaceStats() throws -> DataDirectorySnapshot.SpaceStats? { try snapshot().spaceStats() }

    var batchBytes: Int { 8 << 20 }

    func close() async {
        cachedSnapshot = nil
        await writer?.close()
        writer = nil
    }
}
