import BSON

/// A comparison operator of a range predicate.
enum ComparisonOp: Sendable {
    case lt, lte, gt, gte
}

/// `$type` operand: a set of BSON type bytes, plus the `"number"` alias.
struct TypeSet: Sendable {
    var types: Set<UInt8> = []
    var number = false

    func contains(_ v: BSONValue) -> Bool {
        if number && v.isNumber { return true }
        return types.contains(v.type.rawValue)
    }
}

/// The values of an `$in`: scanned linearly when short, else looked up by their index-key
/// encoding (equal values across numeric types encode identically).
struct InList: Sendable {
    let values: [BSONValue]
    let keys: Set<[UInt8]>?
    let hasNull: Bool

    init(_ values: [BSONValue]) {
        self.values = values
        self.keys = values.count > 8 ? Set(values.map(IndexKeyEncoder.encode)) : nil
        self.hasNull = values.contains { if case .null = $0 { return true } else { return false } }
    }

    /// True when `v` (nil: missing) equals a listed value; a missing field equals null.
    func contains(_ v: BSONValue?) -> Bool {
        guard let v else { return hasNull }
        if let keys { return keys.contains(IndexKeyEncoder.encode(v)) }
        for x in values where BSONComparator.compare(v, x) == 0 { return true }
        return false
    }
}

/// A predicate on one value reached through a path.
enum LeafOp: Sendable {
    case eq(BSONValue)
    case cmp(ComparisonOp, BSONValue)
    case inSet(InList, [CompiledRegex])
    case exists
    case type(TypeSet)
    case regex(CompiledRegex)
    case size(Int)
    case mod(Int64, Int64)
    case elemMatchObject(MatchNode)
    case elemMatchValue(MatchNode)

    /// Whether the predicate is also tried on each element of an array it meets.
    var expandsArrays: Bool {
        switch self {
        case .exists, .size, .elemMatchObject, .elemMatchValue: return false
        default: return true
        }
    }

    /// Tests one candidate; `nil` is a missing field.
    func matchesSingle(_ v: BSONValue?) -> Bool {
        switch self {
        case .eq(let x):
            guard let v else { return x == .null }
            if case .null = x { if case .null = v { return true } else { return false } }
            return BSONComparator.compare(v, x) == 0
        case .cmp(let op, let x):
            return LeafOp.compareMatches(op, v, x)
        case .inSet(let list, let regexes):
            if list.contains(v) { return true }
            guard let v else { return false }
            for r in regexes where r.matches(value: v) { return true }
            return false
        case .exists:
            return v != nil
        case .type(let set):
            guard let v else { return false }
            return set.contains(v)
        case .regex(let r):
            guard let v else { return false }
            return r.matches(value: v)
        case .size(let n):
            if case .array(let a)? = v { return a.count == n }
            return false
        case .mod(let d, let r):
            guard let v, let n = NumericValue(v) else { return false }
            let i: Int64
            switch n {
            case .nan: return false
            case .int(let x): i = x
            case .double(let x):
                guard x.isFinite, x > -9.2e18, x < 9.2e18 else { return false }
                i = Int64(x)
            }
            if d == -1 { return r == 0 }
            return i % d == r
        case .elemMatchObject(let node):
            guard case .array(let a)? = v else { return false }
            for e in a {
                if case .document(let d) = e, node.matches(d) { return true }
            }
            return false
        case .elemMatchValue(let node):
            guard case .array(let a)? = v else { return false }
            for e in a where node.matches(value: e) { return true }
            return false
        }
    }

    /// Range comparison with MongoDB's type bracketing and NaN rules.
    static func compareMatches(_ op: ComparisonOp, _ v: BSONValue?, _ x: BSONValue) -> Bool {
        let value: BSONValue
        if let v {
            value = v
        } else {
            // A missing field compares as null, and only against null.
            guard case .null = x else { return false }
            value = .null
        }
        switch x {
        case .minKey, .maxKey:
            break  // no bracketing: everything is above MinKey and below MaxKey
        default:
            guard BSONComparator.typeRank(value) == BSONComparator.typeRank(x) else { return false }
            if case .nan? = NumericValue(value) {
                if case .nan? = NumericValue(x) { return op == .lte || op == .gte }
                return false
            }
            if case .nan? = NumericValue(x) { return false }
        }
        let c = BSONComparator.compare(value, x)
        switch op {
        case .lt: return c < 0
        case .lte: return c <= 0
        case .gt: return c > 0
        case .gte: return c >= 0
        }
    }
}

/// A parsed filter expression.
indirect enum MatchNode: Sendable {
    case and([MatchNode])
    case or([MatchNode])
    case nor([MatchNode])
    case not(MatchNode)
    case leaf(FieldPath, LeafOp)
    case constant(Bool)

    /// Evaluates against a document.
    func matches(_ doc: BSONDocument) -> Bool {
        switch self {
        case .and(let nodes):
            for n in nodes where !n.matches(doc) { return false }
            return true
        case .or(let nodes):
            for n in nodes where n.matches(doc) { return true }
            return false
        case .nor(let nodes):
            for n in nodes where n.matches(doc) { return false }
            return true
        case .not(let n):
            return !n.matches(doc)
        case .constant(let b):
            return b
        case .leaf(let path, let op):
            let expands = op.expandsArrays
            return PathWalker.any(doc, path) { v in
                if expands, case .array(let a)? = v {
                    if op.matchesSingle(v) { return true }
                    for e in a where op.matchesSingle(e) { return true }
                    return false
                }
                return op.matchesSingle(v)
            }
        }
    }

    /// Evaluates against a single value (the `$elemMatch` value form, whose leaves have empty
    /// paths); no array expansion applies to the value itself.
    func matches(value: BSONValue) -> Bool {
        switch self {
        case .and(let nodes):
            for n in nodes where !n.matches(value: value) { return false }
            return true
        case .or(let nodes):
            for n in nodes where n.matches(value: value) { return true }
            return false
        case .nor(let nodes):
            for n in nodes where n.matches(value: value) { return false }
            return true
        case .not(let n):
            return !n.matches(value: value)
        case .constant(let b):
            return b
        case .leaf(let path, let op):
            if path.isEmpty { return op.matchesSingle(value) }
            guard case .document(let d) = value else { return false }
            return MatchNode.leaf(path, op).matches(d)
        }
    }
}
