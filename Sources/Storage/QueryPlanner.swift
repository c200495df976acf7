import BSON
import Query

/// Chooses how to read a collection for a query, from the indexes a backend declares. Shared by
/// every backend, so pushdown behaves the same on SQLite and on a future PostgreSQL backend.
///
/// For each index it walks the key fields in order: fields the filter pins to one value (or a
/// short `$in` list) extend the key prefix; the first field with a range (or an anchored regex
/// prefix) closes it. The best index pins the most fields; an index that also yields the sort
/// order wins ties. Multikey indexes are used for their first field only and never for order.
public enum QueryPlanner {
    /// `$in` lists longer than this are not expanded into ranges.
    public static let maxInExpansion = 256
    /// A compound index multiplies its fields' `$in` lists; once the product would pass this many
    /// ranges the remaining fields are left to the filter (3 fields of 200 values would otherwise
    /// make 8 million ranges).
    public static let maxRanges = 4096

    /// Plans a query. A `hint` naming no index is BadValue, as in MongoDB.
    public static func plan(
        filter: Filter, sort: SortSpec?, indexes: [IndexDescriptor], hint: IndexTarget? = nil
    ) throws(StorageError) -> AccessPlan {
        let sortKeys = sort?.keys.map { (path: $0.path.dotted, descending: $0.descending) } ?? []
        if let hint {
            guard let index = indexes.first(where: { matches(hint, $0) }) else {
                throw StorageError(.badValue, "hint provided does not correspond to an existing index")
            }
            return candidate(index, filter: filter, sortKeys: sortKeys).plan
        }
        var best: Candidate?
        for index in indexes {
            let c = candidate(index, filter: filter, sortKeys: sortKeys)
            guard c.score > 0 else { continue }
            if c.score > (best?.score ?? 0) { best = c }
        }
        return best?.plan ?? .fullScan(sorted: !sortKeys.isEmpty)
    }

    struct Candidate {
        var plan: AccessPlan
        var score: Int
    }

    static func matches(_ hint: IndexTarget, _ index: IndexDescriptor) -> Bool {
        switch hint {
        case .name(let n): return index.name == n
        case .names(let ns): return ns.contains(index.name)
        case .key(let doc):
            let pattern = doc.pairs.map { ($0.key, ($0.value.doubleValue ?? 1) < 0 ? -1 : 1) }
            return pattern.count == index.key.count && zip(pattern, index.key).allSatisfy { $0.0 == $1.path && $0.1 == $1.direction }
        case .all: return false
        }
    }

    static func candidate(_ index: IndexDescriptor, filter: Filter, sortKeys: [(path: String, descending: Bool)]) -> Candidate {
        var prefixes: [[UInt8]] = [[]]
        var pinned = 0
        var ranges: [KeyRange]?
        for (i, field) in index.key.enumerated() {
            if index.multikey && i > 0 { break }
            let descending = field.direction < 0
            let values: [BSONValue]?
            if index.multikey {
                values = filter.constraints(for: field.path).compactMap(\.equalityValue).first.map { [$0] }
            } else {
                values = filter.inValues(for: field.path)
            }
            if let values, !values.isEmpty, values.count <= maxInExpansion {
                var encoded = Set<[UInt8]>()
                for v in values {
                    var e = IndexKeyEncoder.encode(v)
                    if descending { e = e.map { ~$0 } }
                    encoded.insert(e)
                }
                guard prefixes.count * encoded.count <= maxRanges else { break }
                let sortedValues = encoded.sorted { $0.lexicographicallyPrecedes($1) }
                prefixes = prefixes.flatMap { p in sortedValues.map { p + $0 } }
                pinned += 1
                continue
            }
            if !descending && !index.multikey, let r = rangeComponent(filter, field.path) {
                ranges = prefixes.map { p in
                    KeyRange(lower: p + r.lower, upper: r.upper.map { p + $0 } ?? KeyRange.successor(of: p))
                }
            }
            break
        }
        let hasRange = ranges != nil
        let finalRanges = ranges ?? prefixes.map { KeyRange.prefix($0) }

        // Sort order: drop sort keys pinned to one value, the rest must follow the index.
        var providesSort = false
        var reverse = false
        if !index.multikey {
            let pinnedPaths = Set(index.key.prefix(pinned).map(\.path))
            let single = prefixes.count <= 1
            let remaining = sortKeys.filter { !(single && pinnedPaths.contains($0.path)) }
            if remaining.isEmpty {
                providesSort = true
            } else if single || remaining.isEmpty {
                let tail = Array(index.key.dropFirst(pinned))
                if remaining.count <= tail.count {
                    let same = zip(remaining, tail).allSatisfy { $0.path == $1.path && $0.descending == ($1.direction < 0) }
                    let opposite = zip(remaining, tail).allSatisfy { $0.path == $1.path && $0.descending != ($1.direction < 0) }
                    providesSort = same || opposite
                    reverse = !same && opposite
                }
            }
        }
        var score = pinned * 10 + (hasRange ? 5 : 0)
        if score > 0 && index.unique && pinned == index.key.count && prefixes.count == 1 { score += 100 }
        if !sortKeys.isEmpty && providesSort { score += 3 }
        let plan = AccessPlan(
            scan: .index(name: index.name, ranges: finalRanges, reverse: reverse),
            providesSort: providesSort || sortKeys.isEmpty, mayDuplicate: index.multikey)
        return Candidate(plan: plan, score: score)
    }

    /// The half-open encoded range a single field's range constraint or regex prefix gives:
    /// `lower` inclusive, `upper` exclusive (nil when only the enclosing prefix bounds it).
    static func rangeComponent(_ filter: Filter, _ path: String) -> (lower: [UInt8], upper: [UInt8]?)? {
        if let b = filter.bounds(for: path), !b.isEmpty {
            let e = b.encoded
            let lower = e.lowerInclusive ? e.lower : (KeyRange.successor(of: e.lower) ?? e.lower)
            let upper = e.upperInclusive ? KeyRange.successor(of: e.upper) : e.upper
            return (lower, upper)
        }
        if let prefix = filter.regexPrefix(for: path) {
            let r = IndexKeyEncoder.stringPrefixRange(prefix)
            return (r.lower, r.upperExclusive)
        }
        return nil
    }
}
