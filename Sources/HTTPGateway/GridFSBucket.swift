import BSON
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

    /// The files document with this `_id`, or nil.
    public func file(id: BSONValue) async throws -> StoredFile? {
        let filter = try Filter(["_id": .document(["$eq": id])])
        return try await first(FindQuery(namespace: files, filter: filter, limit: 1))
    }

    /// A revision of a filename, with GridFS's numbering: 0 the oldest, 1 the next…, -1 the newest,
    /// -2 the one before. Nil when there is no such revision.
    public func file(name: String, revision: Int) async throws -> StoredFile? {
        let filter = try Filter(["filename": .document(["$eq": .string(name)])])
        let newestFirst = revision < 0
        let skip = newestFirst ? -(revision + 1) : revision
        guard skip >= 0 else { return nil }
        let sort = try SortSpec(["uploadDate": .int32(newestFirst ? -1 : 1)])
        return try await first(FindQuery(namespace: files, filter: filter, sort: sort, skip: skip, limit: 1))
    }

    private func first(_ query: FindQuery) async throws -> StoredFile? {
        let cursor = try await storage.find(query)
        defer { Task { await cursor.close() } }
        guard let doc = try await cursor.nextBatch(maxCount: 1, maxBytes: 16 << 20).first else { return nil }
        guard let file = StoredFile(document: doc) else {
            throw GatewayError(.internalServerError, "the files document of this file is damaged (length or chunkSize)")
        }
        return file
    }

    /// Reads bytes `range` of a file, chunk by chunk from the first chunk the range touches, and
    /// hands each piece to `body` (which applies backpressure: the next batch is read only when it
    /// returns). At most `batchBytes` of chunks are held at once. Throws on a missing or wrongly
    /// sized chunk (the response is then cut short, never padded).
    public func read(_ file: StoredFile, range: ByteRange, batchBytes: Int = 1 << 21,
                     body: (ArraySlice<UInt8>) async throws -> Void) async throws {
        guard file.length > 0, range.count > 0 else { return }
        let firstChunk = range.first / file.chunkSize
        let lastChunk = range.last / file.chunkSize
        let filter = try Filter([
            "files_id": .document(["$eq": file.id]),
            "n": .document(["$gte": .int64(firstChunk), "$lte": .int64(lastChunk)]),
        ])
        let cursor = try await storage.find(FindQuery(namespace: chunks, filter: filter, sort: try SortSpec(["n": 1])))
        defer { Task { await cursor.close() } }
        var expected = firstChunk
        let perBatch = max(1, Int(clamping: Int64(batchBytes) / file.chunkSize))
        while expected <= lastChunk {
            let batch = try await cursor.nextBatch(maxCount: perBatch, maxBytes: batchBytes)
            if batch.isEmpty { throw GatewayError(.internalServerError, "chunk \(expected) of \(file.idText) is missing") }
            for doc in batch {
                guard let n = doc["n"]?.int64Exact, n == expected else {
                    throw GatewayError(.internalServerError, "chunk \(expected) of \(file.idText) is missing")
                }
                guard let element = doc.element(forKey: "data"), let payload = element.binaryPayloadRange,
                      Int64(payload.count) == file.expectedSize(ofChunk: n) else {
                    throw GatewayError(.internalServerError, "chunk \(n) of \(file.idText) has the wrong size")
                }
                let chunkStart = n * file.chunkSize
                let from = max(range.first, chunkStart) - chunkStart
                let to = min(range.last, chunkStart + Int64(payload.count) - 1) - chunkStart
                let lower = payload.lowerBound + Int(from)
                let upper = payload.lowerBound + Int(to) + 1
                try await body(doc.bytes[lower..<upper])
                expected += 1
                if expected > lastChunk { break }
            }
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
