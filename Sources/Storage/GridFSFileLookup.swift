import BSON
import Query

/// Which files document of a GridFS bucket to find: the one with an `_id`, or a revision of a
/// filename in GridFS's numbering (0 the oldest, 1 the next…, -1 the newest, -2 the one before).
public enum GridFSFileLookup: Sendable {
    /// `{_id: {$eq: id}}`.
    case id(BSONValue)
    /// `{filename: {$eq: name}}` sorted by `uploadDate`, skipping to the revision.
    case name(String, revision: Int)

    /// The filter the lookup stands for (every engine re-checks it on the rows it reads).
    public func filter() throws -> Filter {
        switch self {
        case .id(let id): return try Filter(["_id": .document(["$eq": id])])
        case .name(let name, _): return try Filter(["filename": .document(["$eq": .string(name)])])
        }
    }

    /// How many matching documents to pass over, and whether the newest come first (by name).
    public var skipAndOrder: (skip: Int, newestFirst: Bool) {
        switch self {
        case .id: return (0, false)
        case .name(_, let revision):
            // -1 → skip 0 newest first; -2 → skip 1; 0 → skip 0 oldest first. No overflow:
            // revision + 1 of Int.min is representable, its negation is not, so bound it first.
            guard revision < 0 else { return (revision, false) }
            return (revision == Int.min ? Int.max : -(revision + 1), true)
        }
    }
}

extension StorageEngine {
    /// The engine-neutral lookup over ``find(_:)``: the filter, sorted by `uploadDate` for a name,
    /// with skip and limit 1. Nil when no document matches.
    public func findGridFSFileByQuery(_ lookup: GridFSFileLookup, in files: Namespace) async throws -> BSONDocument? {
        let (skip, newestFirst) = lookup.skipAndOrder
        var query = FindQuery(namespace: files, filter: try lookup.filter(), skip: skip, limit: 1)
        if case .name = lookup { query.sort = try SortSpec(["uploadDate": .int32(newestFirst ? -1 : 1)]) }
        let cursor = try await find(query)
        let batch: [BSONDocument]
        do {
            batch = try await cursor.nextBatch(maxCount: 1, maxBytes: 16 << 20)
        } catch {
            await cursor.close()
            throw error
        }
        await cursor.close()
        return batch.first
    }

    /// By default, ``findGridFSFileByQuery(_:in:)``.
    public func findGridFSFile(_ lookup: GridFSFileLookup, in files: Namespace) async throws -> BSONDocument? {
        try await findGridFSFileByQuery(lookup, in: files)
    }
}
