import BSON
import Query

/// Where ``StorageEngine/readChunkPayloads(_:into:)`` puts GridFS chunk payloads: the engine asks
/// for room for each payload in turn and fills it itself (a segment file is read straight into the
/// room), so the bytes are copied once, from the storage into the caller's buffer. A sink may
/// throw (e.g. a payload of the wrong size); the read then stops with that error.
public protocol ChunkPayloadSink: Sendable {
    /// Appends chunk `n`'s payload of `count` bytes: `fill` writes exactly `count` bytes into the
    /// room it is given. Chunks come in order of `n`, each once.
    mutating func append(chunk n: Int64, count: Int, _ fill: (UnsafeMutableRawBufferPointer) throws -> Void) throws
}

/// Which chunks ``StorageEngine/readChunkPayloads(_:into:)`` reads: `n` from `first` through
/// `last` of one file, at most about `maxBytes` of payload per call.
public struct ChunkPayloadRequest: Sendable {
    /// The bucket's `<bucket>.chunks` collection.
    public var chunks: Namespace
    /// The file's `_id` (the chunks' `files_id`).
    public var filesId: BSONValue
    /// The first chunk number to read.
    public var first: Int64
    /// The last chunk number to read (inclusive).
    public var last: Int64
    /// Stop before a chunk that would take the payload bytes of this call past this many (the
    /// first chunk is always read).
    public var maxBytes: Int

    /// A request.
    public init(chunks: Namespace, filesId: BSONValue, first: Int64, last: Int64, maxBytes: Int) {
        self.chunks = chunks
        self.filesId = filesId
        self.first = first
        self.last = last
        self.maxBytes = maxBytes
    }
}

extension StorageEngine {
    /// The engine-neutral way to read chunk payloads, over ``find(_:)``: the chunks with
    /// `{files_id: id, n: {$gte: first, $lte: last}}` sorted by `n`, each document's `data`
    /// payload copied into the sink. Stops at the first chunk that is not the next `n` (missing,
    /// duplicated, or without a binary `data`), leaving it to the caller to report. Every document
    /// was verified by the engine's own read path. Returns the next chunk number to read.
    public func readChunkPayloadsByQuery<Sink: ChunkPayloadSink>(
        _ request: ChunkPayloadRequest, into sink: inout Sink
    ) async throws -> Int64 {
        guard request.first <= request.last else { return request.first }
        let filter = try Filter([
            "files_id": .document(["$eq": request.filesId]),
            "n": .document(["$gte": .int64(request.first), "$lte": .int64(request.last)]),
        ])
        let cursor = try await find(FindQuery(namespace: request.chunks, filter: filter, sort: try SortSpec(["n": 1])))
        var next = request.first
        var taken = 0
        do {
            reading: while next <= request.last {
                let batch = try await cursor.nextBatch(maxCount: 64, maxBytes: max(1, request.maxBytes - taken))
                if batch.isEmpty { break }
                for doc in batch {
                    guard next <= request.last, let n = doc["n"]?.exactInt64, n == next,
                          let payload = doc.element(forKey: "data")?.binaryPayloadRange else { break reading }
                    if taken > 0 && taken + payload.count > request.maxBytes { break reading }
                    try sink.append(chunk: n, count: payload.count) { room in
                        doc.bytes.withUnsafeBytes { src in
                            room.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[payload]))
                        }
                    }
                    taken += payload.count
                    next += 1
                }
            }
        } catch {
            await cursor.close()
            throw error
        }
        await cursor.close()
        return next
    }

    /// By default, ``readChunkPayloadsByQuery(_:into:)``.
    public func readChunkPayloads<Sink: ChunkPayloadSink>(_ request: ChunkPayloadRequest, into sink: inout Sink) async throws -> Int64 {
        try await readChunkPayloadsByQuery(request, into: &sink)
    }
}

extension BSONValue {
    /// An integral number (int32, int64, or a double with no fraction) as Int64, else nil.
    var exactInt64: Int64? {
        switch self {
        case .int32(let v): return Int64(v)
        case .int64(let v): return v
        case .double(let d):
            guard d.isFinite, d.rounded() == d, abs(d) < 9.0e18 else { return nil }
            return Int64(d)
        default: return nil
        }
    }
}
