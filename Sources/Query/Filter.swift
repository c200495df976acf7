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

    /// Parses `document`; throws ``QueryError`` (BadValue and friends) for what MongoDB rejects.
    public init(_ document: BSONDocument) throws {
        self.document = document
        self.root = try FilterParser.parse(document)
    }

    /// The filter that matches every document (`{}`).
    public static let all: Filter = Filter(emptyDocument: ())

    private init(emptyDocument: ()) {
        document = BSONDocument()
        root = .and([])
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
}
