import BSON
import Commands

/// Which requests a connection answers on its own event loop, with no thread hop, and which go to
/// the blocking executor (docs/performance.md, "No thread hops").
///
/// A request is answered inline only when its work is bounded whatever the data: the event loop
/// serves every other connection assigned to it, and SQLite blocks the thread it runs on. Inline:
/// requests without storage work (`hello`, `ping`, …), `killCursors`, small `insert`s (the request
/// bounds the bytes written; the SQLite layer additionally refuses to commit inline when the commit
/// could fsync or checkpoint, `SQLiteDatabase.mayWriteInline`), and the `find`s whose reads are
/// bounded by an index or by the first batch: a point lookup on `_id` (unique), a GridFS chunks
/// lookup by `files_id` (the built-in `(files_id, n)` key; `x` or `{$eq: x}` alike), and an unsorted `find` with an empty
/// filter and no `batchSize` (it stops at the first batch). Such a `find`'s first batch is capped
/// at ``firstBatchBytes`` (``firstBatchBytesLimit(for:)``), and a reply larger than ``maxReplyBytes`` (GridFS payloads read from the
/// segment files) is assembled on the executor. Everything else — `getMore`, scans with a filter,
/// sorts, updates, deletes, aggregations, large inserts, administration — runs on the executor, as
/// every request did before.
public struct InlinePolicy: Sendable {
    /// Largest request (bytes on the wire) answered inline: one default-size GridFS chunk insert
    /// (255 KiB, as libmongoc and mongofiles send each chunk) fits, so a streamed upload costs one
    /// thread switch per chunk instead of ~4.5 (docs/performance.md, "libmongoc uploads").
    public var maxRequestBytes = 512 * 1024
    /// Cap on the bytes of an inline `find`'s first batch (the rest comes by `getMore`).
    public var firstBatchBytes = 1 << 20
    /// Largest reply assembled inline; a larger deferred batch is read on the executor.
    public var maxReplyBytes = 1 << 20
    /// Whether `insert` may run inline (false for backends whose writes may wait on the network).
    public var allowsWrites = true

    /// Where a request runs.
    public enum Placement: Sendable, Equatable {
        /// On the connection's event loop, with short blocking storage work allowed there.
        case inline
        /// On the blocking executor (two thread hops, no limit on the work).
        case executor
    }

    /// Creates the policy with the default limits.
    public init() {}

    /// Commands with no storage work, or only constant work, answered inline.
    static let constantWork: Set<String> = [
        "hello", "isMaster", "ismaster", "ping", "buildInfo", "buildinfo", "endSessions", "killCursors",
        "whatsmyuri", "getLastError", "getlasterror",
    ]

    /// Where `request`, `requestBytes` long on the wire, runs.
    public func placement(of request: CommandRequest, requestBytes: Int) -> Placement {
        guard requestBytes <= maxRequestBytes else { return .executor }
        if InlinePolicy.constantWork.contains(request.name) { return .inline }
        switch request.name {
        case "insert": return allowsWrites ? .inline : .executor
        case "find": return InlinePolicy.isBoundedFind(request.body) ? .inline : .executor
        default: return .executor
        }
    }

    /// Whether a `find` body reads a bounded number of rows (see the type's comment).
    static func isBoundedFind(_ body: BSONDocument) -> Bool {
        guard case .string(let collection)? = body["find"] else { return false }
        // A hint may force any index; a skip reads the skipped documents too.
        if body["hint"] != nil || body["collation"] != nil { return false }
        if let skip = body["skip"], !isZero(skip) { return false }
        let filter: BSONDocument
        switch body["filter"] {
        case nil: filter = BSONDocument()
        case .document(let document)?: filter = document
        default: return false
        }
        let sort: BSONDocument?
        switch body["sort"] {
        case nil: sort = nil
        case .document(let document)?: sort = document.isEmpty ? nil : document
        default: return false
        }
        let keys = filter.keys
        // A point lookup on the unique `_id` index: at most one document, any sort.
        if keys == ["_id"], let id = filter["_id"], isEquality(id) { return true }
        // GridFS chunks of one file, on the built-in (files_id, n) key, in `n` order.
        if collection.hasSuffix(".chunks"), collection.count > ".chunks".count,
           let filesID = filter["files_id"], isEquality(filesID), Set(keys).isSubset(of: ["files_id", "n"]),
           filter["n"].map(isChunkNumberBound) ?? true,
           sort == nil || sort?.keys == ["n"] {
            return true
        }
        // No filter, no sort and no batchSize: the scan stops when the first batch is full, which
        // inline is 101 documents or ``firstBatchBytes`` (mongod's own first-batch rule once).
        return filter.isEmpty && sort == nil && body["batchSize"] == nil
    }

    /// The first-batch byte cap for an inline `find` (nil: the usual one): GridFS chunks (whose
    /// first batch size the server picks anyway) and unfiltered finds without a `batchSize`. A point
    /// lookup returns one document and needs none; a client that names a `batchSize` gets it.
    public func firstBatchBytesLimit(for request: CommandRequest) -> Int? {
        guard request.name == "find", case .string(let collection)? = request.body["find"] else { return nil }
        if collection.hasSuffix(".chunks") || request.body["batchSize"] == nil { return firstBatchBytes }
        return nil
    }

    /// An equality an index lookup can use as one key: a scalar, or `{$eq: scalar}` (what pymongo's
    /// GridFS reader sends for `files_id` since 4.x, and what mongosh users write).
    static func isEquality(_ value: BSONValue) -> Bool {
        if case .document(let operators) = value {
            guard operators.count == 1, let operand = operators["$eq"] else { return false }
            return isScalar(operand)
        }
        return isScalar(value)
    }

    /// An equality operand an index lookup can use as one key (no operators, arrays or patterns).
    static func isScalar(_ value: BSONValue) -> Bool {
        switch value {
        case .document, .array, .regex, .javascript, .javascriptWithScope, .undefined, .minKey, .maxKey, .dbPointer:
            return false
        default:
            return true
        }
    }

    /// `n` as GridFS readers give it: a number, or a document of range operators on numbers.
    static func isChunkNumberBound(_ value: BSONValue) -> Bool {
        switch value {
        case .int32, .int64, .double: return true
        case .document(let bounds):
            return !bounds.isEmpty && bounds.elements.allSatisfy { element in
                ["$gte", "$gt", "$lte", "$lt"].contains(element.key) && isNumber(element.value)
            }
        default: return false
        }
    }

    private static func isNumber(_ value: BSONValue) -> Bool {
        switch value {
        case .int32, .int64, .double: return true
        default: return false
        }
    }

    private static func isZero(_ value: BSONValue) -> Bool {
        switch value {
        case .int32(let v): return v == 0
        case .int64(let v): return v == 0
        case .double(let v): return v == 0
        default: return false
        }
    }
}
