import BSON
import Query

/// An index as a backend exposes it to the planner: its key pattern and whether a document may
/// contribute several keys (multikey), which rules out using it for sort order.
public struct IndexDescriptor: Sendable {
    /// The index name (`_id_`, `files_id_1_n_1`…).
    public var name: String
    /// Key paths and directions, in order.
    public var key: [(path: String, direction: Int)]
    /// Whether keys are unique.
    public var unique: Bool
    /// Whether some document indexes an array (several keys per document).
    public var multikey: Bool

    /// Creates a descriptor.
    public init(name: String, key: [(path: String, direction: Int)], unique: Bool, multikey: Bool) {
        self.name = name
        self.key = key
        self.unique = unique
        self.multikey = multikey
    }
}

/// A half-open range `[lower, upper)` of encoded index keys (``IndexKeyEncoder`` bytes; compound
/// keys are concatenations). A nil side is unbounded.
public struct KeyRange: Sendable, Hashable {
    /// Lowest key included; nil for no lower bound.
    public var lower: [UInt8]?
    /// First key excluded; nil for no upper bound.
    public var upper: [UInt8]?

    /// Creates a range.
    public init(lower: [UInt8]?, upper: [UInt8]?) {
        self.lower = lower
        self.upper = upper
    }

    /// Every key.
    public static let all = KeyRange(lower: nil, upper: nil)

    /// Every key that starts with `prefix`.
    public static func prefix(_ prefix: [UInt8]) -> KeyRange {
        prefix.isEmpty ? .all : KeyRange(lower: prefix, upper: successor(of: prefix))
    }

    /// The smallest byte string greater than every string starting with `bytes`, or nil when
    /// there is none (all bytes 0xFF).
    public static func successor(of bytes: [UInt8]) -> [UInt8]? {
        var out = bytes
        while let last = out.last {
            if last < 0xFF {
                out[out.count - 1] = last + 1
                return out
            }
            out.removeLast()
        }
        return nil
    }

    /// True when `key` lies in the range.
    public func contains(_ key: [UInt8]) -> Bool {
        if let lower, key.lexicographicallyPrecedes(lower) { return false }
        if let upper, !key.lexicographicallyPrecedes(upper) { return false }
        return true
    }
}

/// How a backend should read a collection for one query: the pushdown hook between the query
/// engine and any storage. Backends scan the named index over the ranges (in ascending key order,
/// or descending when `reverse`), and must still check every row against the full filter.
public struct AccessPlan: Sendable {
    /// What to read.
    public enum Scan: Sendable {
        /// Every document, in insertion order.
        case collection
        /// The keys of one index within the ranges (sorted, non-overlapping), ascending or reversed.
        case index(name: String, ranges: [KeyRange], reverse: Bool)
    }

    /// What to read.
    public var scan: Scan
    /// True when the scan order already is the requested sort order.
    public var providesSort: Bool
    /// True when the index may yield one document several times (multikey); deduplicate.
    public var mayDuplicate: Bool

    /// Creates a plan.
    public init(scan: Scan, providesSort: Bool, mayDuplicate: Bool) {
        self.scan = scan
        self.providesSort = providesSort
        self.mayDuplicate = mayDuplicate
    }

    /// Read everything; sort in memory if a sort was asked for.
    public static func fullScan(sorted: Bool) -> AccessPlan {
        AccessPlan(scan: .collection, providesSort: !sorted, mayDuplicate: false)
    }

    /// The index name, if the plan uses one.
    public var indexName: String? {
        if case .index(let name, _, _) = scan { return name }
        return nil
    }
}
