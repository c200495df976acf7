import BSON

/// One end of a key range: a value and whether it is included.
public struct KeyBound: Sendable, Hashable {
    /// The bounding value.
    public var value: BSONValue
    /// True for `>=`/`<=`, false for `>`/`<`.
    public var inclusive: Bool

    /// Creates a bound.
    public init(_ value: BSONValue, inclusive: Bool) {
        self.value = value
        self.inclusive = inclusive
    }
}

/// A range of values a field must fall in, within one type class (MongoDB's type bracketing).
/// A nil side is open up to the edge of the type class of the other side.
public struct KeyBounds: Sendable, Hashable {
    /// The lower end, or nil for "from the lowest value of the type class".
    public var lower: KeyBound?
    /// The upper end, or nil for "to the highest value of the type class".
    public var upper: KeyBound?

    /// Creates bounds.
    public init(lower: KeyBound?, upper: KeyBound?) {
        self.lower = lower
        self.upper = upper
    }

    /// Bounds for exactly one value.
    public static func equal(_ v: BSONValue) -> KeyBounds {
        KeyBounds(lower: KeyBound(v, inclusive: true), upper: KeyBound(v, inclusive: true))
    }

    /// The single value, when this is an equality.
    public var equalityValue: BSONValue? {
        guard let l = lower, let u = upper, l.inclusive, u.inclusive, compareBSON(l.value, u.value) == 0 else { return nil }
        return l.value
    }

    /// True when no value can satisfy both ends.
    public var isEmpty: Bool {
        guard let l = lower, let u = upper else { return false }
        if BSONComparator.typeRank(l.value) != BSONComparator.typeRank(u.value) { return true }
        let c = compareBSON(l.value, u.value)
        return c > 0 || (c == 0 && !(l.inclusive && u.inclusive))
    }

    /// The range over ``IndexKeyEncoder`` encodings (ascending): an open side is closed at the
    /// edge of the type class of the other side (lower inclusive, upper exclusive).
    public var encoded: (lower: [UInt8], lowerInclusive: Bool, upper: [UInt8], upperInclusive: Bool) {
        let anchor = lower?.value ?? upper?.value ?? .null
        let lo = lower.map { (IndexKeyEncoder.encode($0.value), $0.inclusive) }
            ?? (IndexKeyEncoder.bracketLowerBound(for: anchor), true)
        let hi = upper.map { (IndexKeyEncoder.encode($0.value), $0.inclusive) }
            ?? (IndexKeyEncoder.bracketUpperBound(for: anchor), false)
        return (lo.0, lo.1, hi.0, hi.1)
    }

    /// The intersection of two bounds (assumes a single-valued field; see ``Filter/bounds(for:)``).
    public func intersected(with other: KeyBounds) -> KeyBounds {
        var out = self
        if let l = other.lower {
            if let cur = out.lower {
                let c = compareBSON(l.value, cur.value)
                if c > 0 || (c == 0 && !l.inclusive) { out.lower = l }
            } else {
                out.lower = l
            }
        }
        if let u = other.upper {
            if let cur = out.upper {
                let c = compareBSON(u.value, cur.value)
                if c < 0 || (c == 0 && !u.inclusive) { out.upper = u }
            } else {
                out.upper = u
            }
        }
        return out
    }
}

extension Filter {
    /// The leaves that every matching document must satisfy: those of the top-level implicit
    /// `$and` and of nested `$and`s (not under `$or`, `$nor` or `$not`).
    var requiredLeaves: [(FieldPath, LeafOp)] {
        var out: [(FieldPath, LeafOp)] = []
        func collect(_ n: MatchNode) {
            switch n {
            case .and(let nodes): nodes.forEach(collect)
            case .leaf(let p, let op): out.append((p, op))
            default: break
            }
        }
        collect(root)
        return out
    }

    /// Each range or equality constraint the filter puts on `path` at top level, one entry per
    /// operator. Every matching document has, for each entry, at least one value at `path`
    /// (after array traversal: an array or one of its elements) inside that entry's bounds.
    /// Null, MinKey/MaxKey, array and regex operands are left out (they match missing fields,
    /// cross type classes or match by element), so the list only ever narrows.
    public func constraints(for path: String) -> [KeyBounds] {
        var out: [KeyBounds] = []
        for (p, op) in requiredLeaves where p.dotted == path {
            switch op {
            case .eq(let v) where Filter.isBoundable(v):
                out.append(.equal(v))
            case .cmp(let c, let v) where Filter.isBoundable(v):
                switch c {
                case .gt: out.append(KeyBounds(lower: KeyBound(v, inclusive: false), upper: nil))
                case .gte: out.append(KeyBounds(lower: KeyBound(v, inclusive: true), upper: nil))
                case .lt: out.append(KeyBounds(lower: nil, upper: KeyBound(v, inclusive: false)))
                case .lte: out.append(KeyBounds(lower: nil, upper: KeyBound(v, inclusive: true)))
                }
            default:
                continue
            }
        }
        return out
    }

    /// The intersection of ``constraints(for:)``, or nil when there are none. Only valid for a
    /// field that holds a single value (not an array) in every document, e.g. `_id`, or GridFS's
    /// `files_id`, `n`, `filename`; for a multikey field use ``constraints(for:)``.
    public func bounds(for path: String) -> KeyBounds? {
        let all = constraints(for: path)
        guard var b = all.first else { return nil }
        for c in all.dropFirst() { b = b.intersected(with: c) }
        return b
    }

    /// The single value `path` must equal at top level (`{path: v}` or `{path: {$eq: v}}`), when
    /// the filter pins it to one boundable value.
    public func equalityValue(for path: String) -> BSONValue? {
        bounds(for: path)?.equalityValue
    }

    /// The values of a top-level `$in` (or a single equality) on `path`, when all are boundable
    /// and no regex is involved; nil otherwise.
    public func inValues(for path: String) -> [BSONValue]? {
        for (p, op) in requiredLeaves where p.dotted == path {
            switch op {
            case .inSet(let list, let regexes) where regexes.isEmpty && list.values.allSatisfy(Filter.isBoundable):
                return list.values
            case .eq(let v) where Filter.isBoundable(v):
                return [v]
            default:
                continue
            }
        }
        return nil
    }

    /// If the filter requires `path` to match an anchored regex `^literal…` without options,
    /// the literal prefix every matching string starts with.
    public func regexPrefix(for path: String) -> String? {
        for (p, op) in requiredLeaves where p.dotted == path {
            if case .regex(let r) = op, r.options.isEmpty, let prefix = Filter.literalPrefix(of: r.pattern) {
                return prefix
            }
        }
        return nil
    }

    /// The literal prefix of an anchored pattern (`^abc.*` → `abc`), or nil when the pattern is
    /// not anchored with `^`, contains alternation, or has no literal prefix.
    public static func literalPrefix(of pattern: String) -> String? {
        let chars = Array(pattern.unicodeScalars)
        guard chars.first == "^", !chars.contains("|") else { return nil }
        var out = String.UnicodeScalarView()
        var i = 1
        while i < chars.count {
            let c = chars[i]
            if "\\^$.[]()*+?{}#".unicodeScalars.contains(c) || c.properties.isWhitespace {
                if c == "*" || c == "?" || c == "{", !out.isEmpty { out.removeLast() }
                break
            }
            out.append(c)
            i += 1
        }
        return out.isEmpty ? nil : String(out)
    }

    /// Values a range or equality can be pushed down for.
    static func isBoundable(_ v: BSONValue) -> Bool {
        switch v {
        case .null, .undefined, .minKey, .maxKey, .array, .regex: return false
        default: return true
        }
    }
}

extension IndexKeyEncoder {
    /// The encoded range of every string (and symbol) starting with `prefix`: lower inclusive,
    /// upper exclusive.
    public static func stringPrefixRange(_ prefix: String) -> (lower: [UInt8], upperExclusive: [UInt8]) {
        var lower: [UInt8] = [Tag.string]
        for b in prefix.utf8 {
            lower.append(b)
            if b == 0 { lower.append(0xFF) }
        }
        return (lower, lower + [0xFF])
    }
}
