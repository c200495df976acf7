import BSON
import NIOCore
import Query
import Storage

/// One GridFS bucket (`<bucket>.files` / `<bucket>.chunks` in a database) seen through the
/// storage engine the wire server uses, so both front ends read and write the same files.
public struct GridFSBucket: Sendable {
    /// The engine.
    public let storage: any StorageEngine
    /// `<bucket>.files`.
    public let files: Namespace
    /// `<bucket>.chunks`.
    public let chunks: Namespace

    /// A bucket; `InvalidNamespace` for names MongoDB would refuse.
    public init(storage: any StorageEngine, database: String, bucket: String) throws {
        self.storage = storage
        files = try Namespace(database: database, collection: bucket + ".files")
        chunks = try Namespace(database: database, collection: bucket + ".chunks")
    }

    /// The files document with this `_id`, or nil (``StorageEngine/findGridFSFile(_:in:)``: one
    /// indexed read on the SQLite engine, never a cached answer).
    public func file(id: BSONValue) async throws -> StoredFile? {
        try Self.stored(await storage.findGridFSFile(.id(id), in: files))
    }

    /// A revision of a filename, with GridFS's numbering: 0 the oldest, 1 the next…, -1 the newest,
    /// -2 the one before. Nil when there is no such revision.
    public func file(name: String, revision: Int) async throws -> StoredFile? {
        try Self.stored(await storage.findGridFSFile(.name(name, revision: revision), in: files))
    }

    private static func stored(_ doc: BSONDocument?) throws -> StoredFile? {
        guard let doc else { return nil }
        guard let file = StoredFile(document: doc) else {
            throw GatewayError(.internalServerError, "the files document of this file is damaged (length or chunkSize)")
        }
        return file
    }

    /// Reads bytes `range` of a file and hands them to `body` in buffers of whole chunks, trimmed
    /// to the range: only the chunks the range touches are read (from chunk `first / chunkSize`,
    /// found by key, never by a scan), at most `batchBytes` of them per buffer (at least one chunk).
    /// The engine reads each payload straight into the buffer (``StorageEngine/readChunkPayloads(_:into:)``,
    /// checksum verified), so the bytes are copied once before the socket. `body` applies
    /// backpressure: the next batch is read only when it returns. Throws on a missing or wrongly
    /// sized chunk (the response is then cut short, never padded).
    public func read(_ file: StoredFile, range: ByteRange, batchBytes: Int = 1 << 21,
                     allocator: ByteBufferAllocator = ByteBufferAllocator(),
                     body: (ByteBuffer) async throws -> Void) async throws {
        guard file.length > 0, range.count > 0, range.first >= 0, range.last < file.length else { return }
        let lastChunk = range.last / file.chunkSize
        var next = range.first / file.chunkSize
        let fullBatch = max(1, batchBytes)
        // The first batch is one chunk: its bytes are on their way to the client (on the event
        // loop's thread) while the next batch is read, instead of after the whole batch.
        var batchBytes = 1
        // Where the last chunk the range touches ends (no overflow: lastChunk * chunkSize <= range.last).
        let end = lastChunk * file.chunkSize + file.expectedSize(ofChunk: lastChunk)
        while next <= lastChunk {
            // Room for this batch: `batchBytes` (or one whole chunk when that is larger; a stored
            // document holds at most 16 MiB), never more than the chunks left hold, so a damaged
            // `length` or `chunkSize` cannot make a large allocation (a chunk that does not fit the
            // files document's numbers is refused before it is read).
            let remaining = end - next * file.chunkSize
            let room = min(max(Int64(batchBytes), min(file.expectedSize(ofChunk: next), 16 << 20)), remaining)
            var sink = ChunkBuffer(file: file, allocator: allocator, capacity: Int(clamping: room))
            let request = ChunkPayloadRequest(chunks: chunks, filesId: file.id, first: next, last: lastChunk, maxBytes: batchBytes)
            let after = try await storage.readChunkPayloads(request, into: &sink)
            guard after > next else { throw GatewayError(.internalServerError, "chunk \(next) of \(file.idText) is missing") }
            guard var buffer = sink.buffer else { throw GatewayError(.internalServerError, "chunk \(next) of \(file.idText) is missing") }
            let batchStart = next * file.chunkSize
            let from = Int(max(range.first, batchStart) - batchStart)
            let to = Int(min(range.last - batchStart, Int64(buffer.readableBytes) - 1))
            buffer.moveWriterIndex(to: buffer.readerIndex + to + 1)
            buffer.moveReaderIndex(forwardBy: from)
            try await body(buffer)
            next = after
            batchBytes = fullBatch
        }
    }

    /// Deletes a file: its files document, then its chunks (GridFS's order: a reader never sees a
    /// files document without chunks). Returns false when no files document had this id (the
    /// chunks are removed anyway, as drivers do).
    public func delete(id: BSONValue) async throws -> Bool {
        let byId = try Filter(["_id": .document(["$eq": id])])
        let removed = try await storage.delete([DeleteStatement(filter: byId, limit: 1)], in: files, ordered: true)
        if let e = removed.writeErrors.first { throw e.error }
        try await deleteChunks(of: id)
        return removed.deleted > 0
    }

    /// Removes every chunk of a file id.
    func deleteChunks(of id: BSONValue) async throws {
        let byFile = try Filter(["files_id": .document(["$eq": id])])
        let result = try await storage.delete([DeleteStatement(filter: byFile, limit: 0)], in: chunks, ordered: true)
        if let e = result.writeErrors.first { throw e.error }
    }
}

/// The sink a download's chunks are read into: one `ByteBuffer` per batch, each payload checked
/// against the size the files document implies before the engine writes it in place.
///
/// The buffer is allocated at the first payload, not before: an engine may copy the sink into
/// its read closure (the SQLite engine does), and a `ByteBuffer` shared by two copies is copied
/// whole (its full capacity, up to 2 MiB) on its first write. Allocated late, the copy that
/// fills it holds the only reference, so the payloads are written in place.
struct ChunkBuffer: ChunkPayloadSink {
    let file: StoredFile
    let allocator: ByteBufferAllocator
    let capacity: Int
    /// The batch, once the first payload arrived.
    var buffer: ByteBuffer?

    init(file: StoredFile, allocator: ByteBufferAllocator, capacity: Int) {
        self.file = file
        self.allocator = allocator
        self.capacity = capacity
    }

    mutating func append(chunk n: Int64, count: Int, _ fill: (UnsafeMutableRawBufferPointer) throws -> Void) throws {
        guard Int64(count) == file.expectedSize(ofChunk: n) else {
            throw GatewayError(.internalServerError, "chunk \(n) of \(file.idText) has the wrong size")
        }
        var target = buffer ?? allocator.buffer(capacity: max(capacity, count))
        buffer = nil  // `target` is now the only reference: no copy on write
        defer { buffer = target }
        try target.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { room in
            try fill(UnsafeMutableRawBufferPointer(rebasing: room[0..<count]))
            return count
        }
    }
}
