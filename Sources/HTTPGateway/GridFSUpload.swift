#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BSON
import Query
import Storage

/// A file being written into a bucket as pymongo writes one: chunks `{_id, files_id, n, data}` of
/// exactly `chunkSize` bytes (the last one shorter), then the files document `{_id, length,
/// chunkSize, uploadDate, filename, metadata}` once every chunk is stored, so a reader never sees
/// a files document whose chunks are not all there. Chunks are inserted in batches of at most
/// ``batchBytes``, which bounds the memory an upload holds. ``abort()`` removes what was written.
public struct GridFSUpload: Sendable {
    /// The bucket written to.
    public let bucket: GridFSBucket
    /// The new file's `_id`.
    public let id: BSONValue
    /// The new file's name.
    public let filename: String
    /// Bytes per chunk.
    public let chunkSize: Int
    /// `metadata` of the files document (e.g. `{contentType: ...}`), if any.
    public let metadata: BSONDocument?
    /// The most chunk bytes held before they are inserted.
    public let batchBytes: Int

    private var pending: [UInt8] = []
    private var batch: [BSONDocument] = []
    private var batchSize = 0
    private var nextChunk: Int64 = 0
    /// Bytes received so far.
    public private(set) var length: Int64 = 0

    /// Starts an upload (nothing is written until the first chunk is full).
    public init(bucket: GridFSBucket, filename: String, chunkSize: Int = 255 * 1024, metadata: BSONDocument? = nil,
                batchBytes: Int = 4 << 20) {
        self.bucket = bucket
        self.id = .objectId(ObjectId())
        self.filename = filename
        self.chunkSize = max(1, chunkSize)
        self.metadata = metadata
        self.batchBytes = batchBytes
        pending.reserveCapacity(self.chunkSize)
    }

    /// Appends bytes, storing every chunk they complete.
    public mutating func append(_ bytes: some Collection<UInt8>) async throws {
        length += Int64(bytes.count)
        var rest = bytes[...]
        while !rest.isEmpty {
            let take = min(chunkSize - pending.count, rest.count)
            let end = rest.index(rest.startIndex, offsetBy: take)
            pending.append(contentsOf: rest[rest.startIndex..<end])
            rest = rest[end...]
            if pending.count == chunkSize { try await cutChunk() }
        }
    }

    private mutating func cutChunk() async throws {
        var chunk = BSONDocument([("_id", .objectId(ObjectId())), ("files_id", id), ("n", .int32(Int32(clamping: nextChunk)))])
        chunk.appendBinary("data", subtype: 0, payload: pending)
        pending.removeAll(keepingCapacity: true)
        nextChunk += 1
        batch.append(chunk)
        batchSize += chunk.bytes.count
        if batchSize >= batchBytes { try await flush() }
    }

    private mutating func flush() async throws {
        guard !batch.isEmpty else { return }
        let result = try await bucket.storage.insert(batch, into: bucket.chunks, ordered: true)
        if let e = result.writeErrors.first { throw e.error }
        batch.removeAll(keepingCapacity: true)
        batchSize = 0
    }

    /// Stores the last chunk and the files document; returns the new file.
    public mutating func finish() async throws -> StoredFile {
        if !pending.isEmpty { try await cutChunk() }
        try await flush()
        var doc = BSONDocument([
            ("_id", id), ("length", .int64(length)), ("chunkSize", .int32(Int32(clamping: chunkSize))),
            ("uploadDate", .datetime(Self.nowMilliseconds())), ("filename", .string(filename)),
        ])
        if let metadata { doc.append("metadata", .document(metadata)) }
        let result = try await bucket.storage.insert([doc], into: bucket.files, ordered: true)
        if let e = result.writeErrors.first { throw e.error }
        guard let file = StoredFile(document: doc) else {
            throw GatewayError(.internalServerError, "could not read back the new files document")
        }
        return file
    }

    /// Removes the chunks written so far (an upload that failed or was cut off leaves nothing).
    public mutating func abort() async {
        batch.removeAll()
        pending.removeAll()
        try? await bucket.deleteChunks(of: id)
    }

    /// Creates the indexes drivers create before a bucket's first upload (`{filename: 1,
    /// uploadDate: 1}` on files, unique `{files_id: 1, n: 1}` on chunks), so the bucket looks the
    /// same whichever front end wrote it first. Creating an index that exists is a no-op.
    public static func ensureIndexes(_ bucket: GridFSBucket) async throws {
        _ = try await bucket.storage.createIndexes([IndexSpec(
            name: "filename_1_uploadDate_1", key: [("filename", 1), ("uploadDate", 1)], unique: false,
            spec: ["v": .int32(2), "key": .document(["filename": .int32(1), "uploadDate": .int32(1)]), "name": "filename_1_uploadDate_1"])],
            on: bucket.files)
        _ = try await bucket.storage.createIndexes([IndexSpec(
            name: "files_id_1_n_1", key: [("files_id", 1), ("n", 1)], unique: true,
            spec: ["v": .int32(2), "key": .document(["files_id": .int32(1), "n": .int32(1)]), "name": "files_id_1_n_1", "unique": true])],
            on: bucket.chunks)
    }

    /// Wall-clock milliseconds since the Unix epoch (`uploadDate`).
    static func nowMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
