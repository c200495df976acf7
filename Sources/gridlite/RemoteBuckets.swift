import BSON
import Foundation
import SQLiteStorage
import Wire

/// A running daemon's buckets over the wire protocol (`--uri`): the GridFS traffic a driver sends
/// (find on `<bucket>.files` / `<bucket>.chunks` with getMore, inserts of chunk batches as kind-1
/// sequences, then the files document; the two GridFS indexes created first as drivers do). The
/// daemon verifies every chunk it serves; a damaged one fails the command with its error.
final class RemoteBuckets: BucketAccess {
    let client: WireClient
    /// (database, bucket) pairs whose indexes were ensured by this run.
    private var indexed: Set<String> = []

    init(_ client: WireClient) {
        self.client = client
    }

    /// Every document of a `find` (first batch and getMores).
    func findAll(_ collection: String, database: String, filter: BSONDocument = [:], sort: BSONDocument? = nil,
                 projection: BSONDocument? = nil, limit: Int? = nil, each: (BSONDocument) throws -> Void) throws {
        var find: BSONDocument = ["find": .string(collection), "filter": .document(filter)]
        if let sort { find.append("sort", .document(sort)) }
        if let projection { find.append("projection", .document(projection)) }
        if let limit { find.append("limit", .int64(Int64(limit))) }
        var reply = try client.command(find, database: database)
        var key = "firstBatch"
        while true {
            guard case .document(let cursor)? = reply["cursor"] else { throw WireClient.Failure(description: "a find reply without a cursor") }
            if case .array(let batch)? = cursor[key] {
                for case .document(let doc) in batch { try each(doc) }
            }
            guard let id = cursor["id"], id != .int64(0), id != .int32(0) else { return }
            reply = try client.command(["getMore": id, "collection": .string(collection)], database: database)
            key = "nextBatch"
        }
    }

    func files(database: String, bucket: String) throws -> [BucketFile] {
        var out: [BucketFile] = []
        try findAll("\(bucket).files", database: database, sort: ["_id": .int32(1)]) { doc in
            let id = doc["_id"] ?? .null
            var name: String?
            if case .string(let n)? = doc["filename"] { name = n }
            var date: Int64?
            if case .datetime(let ms)? = doc["uploadDate"] { date = ms }
            out.append(BucketFile(id: BucketFile.show(id), idValue: id, filename: name, length: Int64(doc["length"]?.intValue ?? 0),
                                  chunkSize: doc["chunkSize"]?.intValue ?? 0, uploadDate: date))
        }
        return out
    }

    func read(_ file: BucketFile, database: String, bucket: String, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var next = 0
        var written: Int64 = 0
        try findAll("\(bucket).chunks", database: database, filter: ["files_id": file.idValue], sort: ["n": .int32(1)]) { doc in
            guard doc["n"]?.intValue == next, case .binary(let data)? = doc["data"] else {
                throw WireClient.Failure(description: "file \(file.id): chunk n=\(next) is missing or out of order")
            }
            try data.data.withUnsafeBytes { try sink($0) }
            written += Int64(data.data.count)
            next += 1
        }
        guard written == file.length else {
            throw WireClient.Failure(description: "file \(file.id): chunks hold \(written) bytes, length says \(file.length)")
        }
    }

    /// The two indexes every GridFS driver creates before its first upload into a bucket.
    private func ensureIndexes(database: String, bucket: String) throws {
        guard indexed.insert("\(database)\u{0}\(bucket)").inserted else { return }
        let specs: [(String, BSONDocument, Bool)] = [
            ("\(bucket).files", ["filename": .int32(1), "uploadDate": .int32(1)], false),
            ("\(bucket).chunks", ["files_id": .int32(1), "n": .int32(1)], true),
        ]
        for (collection, key, unique) in specs {
            var index: BSONDocument = ["key": .document(key), "name": .string(key.keys.map { "\($0)_1" }.joined(separator: "_"))]
            if unique { index.append("unique", .bool(true)) }
            do {
                try client.command(["createIndexes": .string(collection), "indexes": .array([.document(index)])], database: database)
            } catch let failure as WireClient.Failure where failure.code == 85 || failure.code == 86 {
                // The bucket already has an equivalent index under other options (another client made it).
            }
        }
    }

    private func insert(_ documents: [BSONDocument], into collection: String, database: String) throws {
        let reply = try client.command(["insert": .string(collection), "ordered": .bool(true)], database: database,
                                       sequences: [OpMsg.DocumentSequence(identifier: "documents", documents: documents)])
        if case .array(let errors)? = reply["writeErrors"], case .document(let first)? = errors.first {
            var message = "write error"
            if case .string(let m)? = first["errmsg"] { message = m }
            throw WireClient.Failure(description: "writing \(database).\(collection) failed: \(message)", code: first["code"]?.intValue)
        }
    }

    func storeChunks(_ chunks: [BSONDocument], database: String, bucket: String) async throws {
        try ensureIndexes(database: database, bucket: bucket)
        try insert(chunks, into: "\(bucket).chunks", database: database)
    }

    func storeFile(_ file: BSONDocument, database: String, bucket: String) async throws {
        try ensureIndexes(database: database, bucket: bucket)
        try insert([file], into: "\(bucket).files", database: database)
    }

    func bucketStats() throws -> [DataDirectorySnapshot.BucketStats] {
        var out: [DataDirectorySnapshot.BucketStats] = []
        let reply = try client.command(["listDatabases": .int32(1), "nameOnly": .bool(true)], database: "admin")
        var names: [String] = []
        if case .array(let list)? = reply["databases"] {
            for case .document(let db) in list { if case .string(let name)? = db["name"] { names.append(name) } }
        }
        for database in names.sorted() {
            var buckets: [String] = []
            try findAllCollections(database) { name in
                if name.hasSuffix(".files") { buckets.append(String(name.dropLast(".files".count))) }
            }
            for bucket in buckets.sorted() {
                var s = DataDirectorySnapshot.BucketStats(database: database, bucket: bucket)
                let all = try files(database: database, bucket: bucket)
                s.files = all.count
                s.bytes = all.reduce(0) { $0 + $1.length }
                s.largest = all.sorted { $0.length > $1.length }.prefix(3).map { ($0.filename ?? $0.id, $0.length) }
                let count = try client.command(["count": .string("\(bucket).chunks"), "query": .document([:])], database: database)
                s.chunks = count["n"]?.intValue ?? 0
                out.append(s)
            }
        }
        return out
    }

    private func findAllCollections(_ database: String, each: (String) -> Void) throws {
        var reply = try client.command(["listCollections": .int32(1), "nameOnly": .bool(true)], database: database)
        var key = "firstBatch"
        while true {
            guard case .document(let cursor)? = reply["cursor"] else { return }
            if case .array(let batch)? = cursor[key] {
                for case .document(let doc) in batch { if case .string(let name)? = doc["name"] { each(name) } }
            }
            guard let id = cursor["id"], id != .int64(0), id != .int32(0), case .string(let ns)? = cursor["ns"] else { return }
            let collection = ns.split(separator: ".", maxSplits: 1).dropFirst().first.map(String.init) ?? "$cmd.listCollections"
            reply = try client.command(["getMore": id, "collection": .string(collection)], database: database)
            key = "nextBatch"
        }
    }

    /// Segment space is not visible over the wire protocol.
    func spaceStats() throws -> DataDirectorySnapshot.SpaceStats? { nil }

    var batchBytes: Int { max(1 << 20, min(16 << 20, client.maxMessageBytes - (1 << 20))) }

    func close() async {}
}
