import BSON

/// A sort order parsed from `{a: 1, b: -1}`.
///
/// Follows MongoDB: a missing field sorts as null; for an array field the ascending key is its
/// smallest element and the descending key its largest (an empty array sorts below null);
/// ties return 0 so callers can sort stably.
public struct SortSpec: Sendable {
    /// One sort field.
    public struct Key: Sendable, Hashable {
        /// The dotted path.
        public var path: FieldPath
        /// True for `-1`.
        public var descending: Bool
    }

    /// The fields in priority order.
    public let keys: [Key]

    /// Parses a sort document; every value must be 1 or -1 (any numeric type).
    public init(_ document: BSONDocument) throws {
        var keys: [Key] = []
        for (name, value) in document {
            guard !name.isEmpty else { throw QueryError.badValue("FieldPath cannot be constructed with empty string") }
            guard let n = NumericValue(value), n == .int(1) || n == .int(-1) else {
                if case .document = value {
                    throw QueryError.badValue("$meta sort is not supported")
                }
                throw QueryError.location(15975, "$sort key ordering must be 1 (for ascending) or -1 (for descending)")
            }
            keys.append(Key(path: FieldPath(name), descending: n == .int(-1)))
        }
        self.keys = keys
    }

    /// True when there is nothing to sort by.
    public var isEmpty: Bool { keys.isEmpty }

    /// The values the document sorts by, one per key (compute once per document, then use
    /// ``compareKeys(_:_:)``).
    public func sortKey(for doc: BSONDocument) -> [BSONValue] {
        keys.map { SortSpec.keyValue(doc, $0.path, descending: $0.descending) }
    }

    /// Compares two results of ``sortKey(for:)``.
    public func compareKeys(_ a: [BSONValue], _ b: [BSONValue]) -> Int {
        for (i, key) in keys.enumerated() where i < a.count && i < b.count {
            let c = compareBSON(a[i], b[i])
            if c != 0 { return key.descending ? -c : c }
        }
        return 0
    }

    /// Compares two documents in this order: negative, zero (a tie) or positive.
    public func compare(_ a: BSONDocument, _ b: BSONDocument) -> Int {
        for key in keys {
            let x = SortSpec.keyValue(a, key.path, descending: key.descending)
            let y = SortSpec.keyValue(b, key.path, descending: key.descending)
            let c = compareBSON(x, y)
            if c != 0 { return key.descending ? -c : c }
        }
        return 0
    }

    /// The smallest (ascending) or largest (descending) value the path reaches.
    static func keyValue(_ doc: BSONDocument, _ path: FieldPath, descending: Bool) -> BSONValue {
        var best: BSONValue?
        func consider(_ v: BSONValue) {
            guard let b = best else { best = v; return }
            let c = compareBSON(v, b)
            if descending ? c > 0 : c < 0 { best = v }
        }
        _ = PathWalker.any(doc, path) { v in
            switch v {
            case nil: consider(.null)
            case .array(let a)?:
                if a.isEmpty { consider(.undefined) }
                for e in a { consider(e) }
            case let x?: consider(x)
            }
            return false
        }
        return best ?? .null
    }
}
