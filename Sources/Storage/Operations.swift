import BSON
import Query

/// A query as a backend sees it: which documents, in which order, how many.
public struct FindQuery: Sendable {
    /// Where to look.
    public var namespace: Namespace
    /// Which documents match (already parsed).
    public var filter: Filter
    /// The order, if any (ties keep insertion order).
    public var sort: SortSpec?
    /// Documents to pass over first.
    public var skip: Int
    /// At most this many documents (0 = no limit).
    public var limit: Int
    /// An index the client named with `hint` (by name or key pattern), if any.
    public var hint: IndexTarget?
    /// The most bytes of documents a blocking (in-memory) sort may hold (see ``BlockingSort``).
    public var sortMemoryLimit: Int
    /// The first batch the caller will ask for right away (`find`'s count and bytes), if known: an
    /// engine whose every call is a round trip (PostgreSQL) may read it together with the plan.
    /// Only a hint: ``DocumentCursor/nextBatch(maxCount:maxBytes:)`` decides what is returned.
    public var firstBatch: BatchLimits?

    /// Creates a query.
    public init(namespace: Namespace, filter: Filter, sort: SortSpec? = nil, skip: Int = 0, limit: Int = 0,
                hint: IndexTarget? = nil, sortMemoryLimit: Int = blockingSortMemoryLimit) {
        self.namespace = namespace
        self.filter = filter
        self.sort = sort
        self.skip = skip
        self.limit = limit
        self.hint = hint
        self.sortMemoryLimit = sortMemoryLimit
    }
}

/// A cursor batch's limits: at most `count` documents and `bytes` bytes of them.
public struct BatchLimits: Sendable, Equatable {
    /// Most documents.
    public var count: Int
    /// Most bytes of documents.
    public var bytes: Int

    /// Limits.
    public init(count: Int, bytes: Int) {
        self.count = count
        self.bytes = bytes
    }
}

/// Yields a query's documents in batches. Implementations must not hold a read transaction open
/// between batches (a cursor may idle for minutes), and must be safe to close twice.
public protocol DocumentCursor: Sendable {
    /// The next batch: at most `maxCount` documents whose sizes add up to at most `maxBytes`
    /// (always at least one document while any remain). Empty when exhausted.
    func nextBatch(maxCount: Int, maxBytes: Int) async throws -> [BSONDocument]
    /// The next batch as ``DeferredDocument``s (assembled and verified when the caller writes
    /// them), or nil when this cursor cannot defer its reads: the caller then uses
    /// ``nextBatch(maxCount:maxBytes:)``. Same counting rules; the default answers nil.
    func nextDeferredBatch(maxCount: Int, maxBytes: Int) async throws -> DeferredBatch?
    /// True once every document has been returned.
    var isExhausted: Bool { get async }
    /// Releases resources early.
    func close() async
}

/// One statement of an `update` command.
public struct UpdateStatement: Sendable {
    /// Which documents.
    public var filter: Filter
    /// What to change.
    public var update: UpdateSpec
    /// Update every match (true) or the first (false).
    public var multi: Bool
    /// Insert when nothing matches.
    public var upsert: Bool

    /// Creates a statement.
    public init(filter: Filter, update: UpdateSpec, multi: Bool, upsert: Bool) {
        self.filter = filter
        self.update = update
        self.multi = multi
        self.upsert = upsert
    }
}

/// One statement of a `delete` command.
public struct DeleteStatement: Sendable {
    /// Which documents.
    public var filter: Filter
    /// 0 = every match, 1 = the first.
    public var limit: Int

    /// Creates a statement.
    public init(filter: Filter, limit: Int) {
        self.filter = filter
        self.limit = limit
    }
}

/// A `findAndModify`.
public struct FindAndModifyOperation: Sendable {
    /// Which document.
    public var filter: Filter
    /// Which one first, when several match.
    public var sort: SortSpec?
    /// Remove it (true) or update it (false).
    public var remove: Bool
    /// The update, when not removing.
    public var update: UpdateSpec?
    /// Return the document after the update (true) or before (false).
    public var returnNew: Bool
    /// Insert when nothing matches.
    public var upsert: Bool

    /// Creates an operation.
    public init(filter: Filter, sort: SortSpec?, remove: Bool, update: UpdateSpec?, returnNew: Bool, upsert: Bool) {
        self.filter = filter
        self.sort = sort
        self.remove = remove
        self.update = update
        self.returnNew = returnNew
        self.upsert = upsert
    }
}

/// A per-document write failure (`writeErrors[i]`).
public struct WriteError: Sendable {
    /// Position of the failed document or statement in the request.
    public var index: Int
    /// The error.
    public var error: StorageError
    /// For duplicate keys: the index's key pattern.
    public var keyPattern: BSONDocument?
    /// For duplicate keys: the duplicated values.
    public var keyValue: BSONDocument?

    /// Creates a write error.
    public init(index: Int, error: StorageError, keyPattern: BSONDocument? = nil, keyValue: BSONDocument? = nil) {
        self.index = index
        self.error = error
        self.keyPattern = keyPattern
        self.keyValue = keyValue
    }
}

/// What an insert did.
public struct InsertResult: Sendable {
    /// Documents written.
    public var inserted: Int
    /// Documents that failed.
    public var writeErrors: [WriteError]

    /// Creates a result.
    public init(inserted: Int, writeErrors: [WriteError]) {
        self.inserted = inserted
        self.writeErrors = writeErrors
    }
}

/// What an update did.
public struct UpdateResult: Sendable {
    /// Documents matched (plus upserted ones, as `n` reports).
    public var matched: Int
    /// Documents actually changed.
    public var modified: Int
    /// Upserts: statement index and the new `_id`.
    public var upserted: [(index: Int, id: BSONValue)]
    /// Statements that failed.
    public var writeErrors: [WriteError]

    /// Creates a result.
    public init(matched: Int = 0, modified: Int = 0, upserted: [(index: Int, id: BSONValue)] = [], writeErrors: [WriteError] = []) {
        self.matched = matched
        self.modified = modified
        self.upserted = upserted
        self.writeErrors = writeErrors
    }
}

/// What a delete did.
public struct DeleteResult: Sendable {
    /// Documents removed.
    public var deleted: Int
    /// Statements that failed.
    public var writeErrors: [WriteError]

    /// Creates a result.
    public init(deleted: Int = 0, writeErrors: [WriteError] = []) {
        self.deleted = deleted
        self.writeErrors = writeErrors
    }
}

/// What findAndModify did.
public struct FindAndModifyResult: Sendable {
    /// The document before or after, as asked; nil when nothing matched (and no upsert).
    public var value: BSONDocument?
    /// Whether a document was found (or upserted).
    public var updatedExisting: Bool
    /// The `_id` of an upserted document.
    public var upsertedId: BSONValue?
    /// 1 when a document was affected.
    public var n: Int

    /// Creates a result.
    public init(value: BSONDocument?, updatedExisting: Bool, upsertedId: BSONValue?, n: Int) {
        self.value = value
        self.updatedExisting = updatedExisting
        self.upsertedId = upsertedId
        self.n = n
    }
}
