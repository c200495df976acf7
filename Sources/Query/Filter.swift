import BSON

/// A MongoDB query filter, parsed once and then matched against many documents.
///
/// Supports implicit equality (with array-element and whole-array matching), dotted paths with
/// implicit array traversal and numeric components as positions, `$eq $ne $gt $gte $lt $lte $in
/// $nin $exists $type $regex/$options $and $or $nor $not $elemMatch $size $all $mod $comment`.
/// Comparisons are type-bracketed; `{a: null}` also matches a missing `a`. Regexes are PCRE2,
/// compiled once per filter.
public struct Filter: Sendable {
    /// The filter document as given.
    public let document: BSONDocument
    let root: MatchNode
    /// Every regex in the filter, to check after matching (see ``checkMatching()``).
    let regexes: [CompiledRegex]

    /// Parses `document`; throws ``QueryError`` (BadValue and friends) for what MongoDB rejects.
    public init(_ document: BSONDocument) throws {
        self.document = document
        self.root = try FilterParser.parse(document)
        self.regexes = root.regexes
    }

    /// The filter that matches every document (`{}`).
    public static let all: Filter = Filter(emptyDocument: ())

    private init(emptyDocument: ()) {
        document = BSONDocument()
        root = .and([])
        regexes = []
    }

    /// True when the filter is empty and matches everything.
    public var matchesEverything: Bool {
        if case .and(let nodes) = root { return nodes.isEmpty }
        return false
    }

    /// True when `doc` satisfies the filter.
    public func matches(_ doc: BSONDocument) -> Bool {
        root.matches(doc)
    }

    /// True once a regex of this filter hit a PCRE2 limit: matching results are no longer
    /// trustworthy, so a scan should stop and call ``checkMatching()``.
    public var matchingFailed: Bool {
        regexes.contains { $0.matchError != nil }
    }

    /// Throws the error of a regex that hit a PCRE2 limit while matching (51156).
    public func checkMatching() throws(QueryError) {
        for regex in regexes {
            if let error = regex.matchError { throw error }
        }
    }
}

extension MatchNode {
    /// The regexes in this expression.
    var regexes: [CompiledRegex] {
        switch self {
        case .and(let nodes), .or(let nodes), .nor(let nodes): return nodes.flatMap(\.regexes)
        case .not(let node): return node.regexes
        case .constant: return []
        case .leaf(_, let op):
            switch op {
            case .regex(let r): return [r]
            case .inSet(_, let rs): return rs
            case .elemMatchObject(let node), .elemMatchValue(let node): return node.regexes
            default: return []
            }
        }
    }
}
