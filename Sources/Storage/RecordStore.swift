import BSON
import Query

/// A document's identity inside one collection, assigned by the backend when it stores the
/// document: unique within the collection, never reused while the collection lives, and increasing
/// in insertion order (a collection scan visits documents in that order).
public typealias RecordID = Int64

/// What a scan visitor wants after seeing a record.
public enum ScanStep: Sendable {
    /// The record is consumed; go on.
    case next
    /// The record is consumed; stop here.
    case stopAfter
    /// Stop without consuming the record (it comes again on the next scan from the same position).
    case stopBefore
}

/// Where a scan stopped: which range of the plan, and the last key and record it consumed. A
/// value, so a cursor can keep it between batches without holding anything open in the backend
/// (keyset pagination).
public struct ScanPosition: Sendable, Hashable {
    /// Index into the plan's ranges (in scan order).
    public var range = 0
    /// Last index key consumed in that range.
    public var lastKey: [UInt8]?
    /// Last record consumed.
    public var lastRecord: RecordID?
    /// True once every range is finished.
    public var done = false

    /// The start of a scan.
    public init() {}
}

/// The one read primitive a backend provides: run an ``AccessPlan`` from a position.
///
/// A `.collection` scan visits every record in ``RecordID`` order; an `.index` scan visits the
/// records whose index keys fall in the plan's ranges, ordered by (key, record id), ascending or
/// reversed. Multikey indexes may visit a record more than once (the plan says so). `position`
/// always ends just past the last consumed record.
public protocol RecordScanner {
    /// Visits records of `plan` from `position`.
    func scan(_ plan: AccessPlan, from position: inout ScanPosition,
              visit: (RecordID, BSONDocument) throws -> ScanStep) throws
}

/// One collection inside a backend's write transaction: what the engine-neutral write rules
/// (``WriteRules``) need, and all a backend has to provide for MongoDB's insert, update, upsert,
/// delete and findAndModify semantics.
///
/// A backend stores documents, keeps their index keys (``IndexKeyEncoder`` bytes) and enforces
/// unique indexes, reporting a violation as ``UniqueIndexViolation``. It knows nothing of
/// `_id` immutability, upserts, sort order or MongoDB's error messages.
public protocol CollectionWriter: RecordScanner {
    /// The collection.
    var namespace: Namespace { get }
    /// The indexes the planner may use for this collection.
    var plannableIndexes: [IndexDescriptor] { get }
    /// The definition of an index, by name (for duplicate-key reports).
    func indexSpec(named name: String) -> IndexSpec?
    /// The stored document of a record, if it still exists.
    func load(_ id: RecordID) throws -> BSONDocument?
    /// Stores a new document (it carries `_id`) and its index keys. Atomic: when it throws,
    /// nothing of it remains.
    mutating func insert(_ document: BSONDocument) throws -> RecordID
    /// Replaces a record's document (`old` is what it held) and moves its index keys. Atomic.
    mutating func replace(_ id: RecordID, old: BSONDocument, with document: BSONDocument) throws
    /// Removes a record and its index keys; `old` is its document when the caller has it.
    mutating func delete(_ id: RecordID, old: BSONDocument?) throws
    /// Runs `body` so that when it throws, none of its writes remain (a savepoint).
    mutating func atomically<T>(_ body: (inout Self) throws -> T) throws -> T
}

/// A write that would give a unique index a key it already holds for another record. Backends
/// throw it from ``CollectionWriter/insert(_:)`` and ``CollectionWriter/replace(_:old:with:)``;
/// the write rules turn it into MongoDB's DuplicateKey (11000) with `keyPattern` and `keyValue`.
public struct UniqueIndexViolation: Error, Sendable {
    /// The index's name.
    public var indexName: String
    /// The duplicated encoded key, when the backend knows it.
    public var key: [UInt8]?

    /// Creates a violation report.
    public init(indexName: String, key: [UInt8]? = nil) {
        self.indexName = indexName
        self.key = key
    }
}
