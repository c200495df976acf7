import BSON
import NIOCore
import Synchronization

/// Everything the ceiling server keeps: collections by namespace and open cursors.
struct CeilingState: Sendable {
    /// "db.collection" → collection.
    var collections: [String: MemoryCollection] = [:]
    /// Open cursors by id.
    var cursors: [Int64: OpenCursor] = [:]
    /// The next cursor id to hand out.
    var nextCursorId: Int64 = 1_000_001
}

/// Documents a find produced that did not fit in its first batch.
struct OpenCursor: Sendable {
    /// The namespace reported in replies.
    var ns: String
    /// All the result documents.
    var documents: [BSONDocument]
    /// Index of the next document to return.
    var position: Int
}

/// The shared store, behind one mutex (held only while commands touch memory).
final class CeilingStore: Sendable {
    /// The largest batch in bytes (besides a single larger document).
    static let batchBytes = 8 * 1024 * 1024

    let state = Mutex(CeilingState())

    /// Takes the next batch from `documents` starting at `position`: at most `maxCount` documents
    /// (0 = no count limit) and about ``batchBytes`` bytes, always at least one document.
    static func batch(_ documents: [BSONDocument], from position: Int, maxCount: Int) -> Range<Int> {
        var end = position
        var bytes = 0
        while end < documents.count {
            let size = documents[end].bytes.count
            if end > position && (bytes + size > batchBytes || (maxCount > 0 && end - position >= maxCount)) { break }
            bytes += size
            end += 1
        }
        return position..<end
    }

    /// Registers the rest of a result after a first batch ending at `position`; returns its id, or 0
    /// when nothing is left.
    func openCursor(ns: String, documents: [BSONDocument], position: Int) -> Int64 {
        guard position < documents.count else { return 0 }
        return state.withLock { state in
            let id = state.nextCursorId
            state.nextCursorId += 1
            state.cursors[id] = OpenCursor(ns: ns, documents: documents, position: position)
            return id
        }
    }

    /// Takes the next batch of cursor `id`: (ns, documents, id to report — 0 once exhausted).
    func nextBatch(id: Int64, maxCount: Int) -> (String, ArraySlice<BSONDocument>, Int64)? {
        state.withLock { state in
            guard var cursor = state.cursors[id] else { return nil }
            let range = Self.batch(cursor.documents, from: cursor.position, maxCount: maxCount)
            let slice = cursor.documents[range]
            cursor.position = range.upperBound
            if cursor.position >= cursor.documents.count {
                state.cursors[id] = nil
                return (cursor.ns, slice, 0)
            }
            state.cursors[id] = cursor
            return (cursor.ns, slice, id)
        }
    }

    /// Closes cursors; returns the ids that existed.
    func kill(_ ids: [Int64]) -> [Int64] {
        state.withLock { state in ids.filter { state.cursors.removeValue(forKey: $0) != nil } }
    }
}
