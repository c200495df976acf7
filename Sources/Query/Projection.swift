import BSON

/// A find projection: inclusion (`{a: 1, "b.c": 1}`) or exclusion (`{a: 0}`), `_id` included
/// unless `_id: 0`, with optional `$slice` and `$elemMatch` on array fields. Output keeps the
/// field order of the source document.
public struct Projection: Sendable {
    enum Action: Sendable {
        case include
        case exclude
        case slice(skip: Int?, limit: Int)
        case elemMatch(MatchNode)
    }

    struct Node: Sendable {
        var action: Action?
        var children: [String: Node] = [:]
    }

    /// True for an inclusion projection, false for exclusion (including `$slice`-only).
    public let isInclusion: Bool
    /// True when `_id` is left out.
    public let excludesId: Bool
    var root: Node
    /// The regexes of the `$elemMatch` conditions (see ``checkMatching()``).
    let regexes: [CompiledRegex]

    /// Parses a projection; throws BadValue / Location31253/31254/31250 as MongoDB does.
    public init(_ document: BSONDocument) throws {
        var entries: [(String, Action)] = []
        try Projection.flatten(document, prefix: "", into: &entries)
        var mode: Bool?  // true inclusion, false exclusion
        var excludesId = false
        var includesId = false
        var root = Node()
        for (path, action) in entries {
            if path == "_id" {
                if case .exclude = action { excludesId = true; continue }
                if case .include = action { includesId = true; continue }
            }
            switch action {
            case .include:
                if mode == false { throw QueryError.location(31253, "Cannot do inclusion on field \(path) in exclusion projection") }
                mode = true
            case .exclude:
                if mode == true { throw QueryError.location(31254, "Cannot do exclusion on field \(path) in inclusion projection") }
                mode = false
            case .elemMatch:
                if path.contains(".") { throw QueryError.badValue("Cannot use $elemMatch projection on a nested field.") }
            case .slice:
                break
            }
            try Projection.insert(path, action, into: &root)
        }
        self.isInclusion = mode ?? includesId
        self.excludesId = excludesId
        self.root = root
        regexes = entries.flatMap { entry -> [CompiledRegex] in
            if case .elemMatch(let node) = entry.1 { return node.regexes }
            return []
        }
    }

    static func flatten(_ doc: BSONDocument, prefix: String, into out: inout [(String, Action)]) throws {
        for (key, value) in doc {
            let path = prefix.isEmpty ? key : prefix + "." + key
            guard !key.isEmpty else { throw QueryError.badValue("FieldPath cannot be constructed with empty string") }
            if key.hasPrefix("$") { throw QueryError.badValue("FieldPath field names may not start with '$'. Consider using $getField or $setField.") }
            // The positional projection (`"a.$": 1`) is not implemented; treating `$` as a field
            // name would silently return wrong documents.
            if key.split(separator: ".", omittingEmptySubsequences: false).contains(where: { $0.hasPrefix("$") }) {
                throw QueryError(code: 238, codeName: "NotImplemented", message: "positional projection '\(path)' is not implemented yet")
            }
            switch value {
            case .bool, .int32, .int64, .double, .decimal128:
                out.append((path, value.isTruthy ? .include : .exclude))
            case .document(let d):
                guard let first = d.elements.first(where: { _ in true }) else {
                    throw QueryError.location(51270, "An empty sub-projection is not a valid value. Found empty object at path")
                }
                if !first.key.hasPrefix("$") {
                    try flatten(d, prefix: path, into: &out)
                } else if first.key == "$slice" {
                    out.append((path, try parseSlice(first.value)))
                } else if first.key == "$elemMatch" {
                    guard case .document(let q) = first.value else { throw QueryError.badValue("elemMatch: Invalid argument, object required.") }
                    out.append((path, .elemMatch(try FilterParser.parse(q))))
                } else {
                    throw QueryError.badValue("Unsupported projection option: \(key): \(d)")
                }
            default:
                throw QueryError.badValue("Unsupported projection value for field '\(path)': computed projections are not supported")
            }
        }
    }

    static func parseSlice(_ v: BSONValue) throws -> Action {
        if v.isNumber, let n = v.intValue { return .slice(skip: nil, limit: n) }
        if case .array(let a) = v, a.count == 2, let s = a[0].intValue, let l = a[1].intValue {
            guard l > 0 else { throw QueryError.badValue("$slice limit must be positive") }
            return .slice(skip: s, limit: l)
        }
        throw QueryError.badValue("$slice only supports numbers and [skip, limit] arrays")
    }

    static func insert(_ path: String, _ action: Action, into root: inout Node) throws {
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        func go(_ node: inout Node, _ i: Int) throws {
            if node.action != nil {
                throw QueryError.location(31250, "Path collision at \(path) remaining portion \(parts[i...].joined(separator: "."))")
            }
            var child = node.children[parts[i]] ?? Node()
            if i == parts.count - 1 {
                if child.action != nil || !child.children.isEmpty {
                    throw QueryError.location(31250, "Path collision at \(path)")
                }
                child.action = action
            } else {
                try go(&child, i + 1)
            }
            node.children[parts[i]] = child
        }
        try go(&root, 0)
    }

    /// Projects `doc`.
    /// Throws 51156 when an `$elemMatch` regex hit a PCRE2 limit: its "no match" is not an answer.
    public func apply(to doc: BSONDocument) throws(QueryError) -> BSONDocument {
        var out = BSONDocument()
        for e in doc.elements {
            let key = e.key
            if key == "_id" && root.children["_id"] == nil {
                if !excludesId { out.append(raw: e) }
                continue
            }
            if let v = project(e.value, child: root.children[key], raw: true) {
                if let v { out.append(key, v) } else { out.append(raw: e) }
            }
        }
        try checkMatching()
        return out
    }

    /// Throws the error of an `$elemMatch` regex that hit a PCRE2 limit while projecting (51156,
    /// as for a filter: see ``Filter/checkMatching()``).
    public func checkMatching() throws(QueryError) {
        for regex in regexes {
            if let error = regex.matchError { throw error }
        }
    }

    /// nil: drop the field; .some(nil): keep it unchanged; .some(v): replace with v.
    private func project(_ value: BSONValue, child: Node?, raw: Bool) -> BSONValue?? {
        guard let child else { return isInclusion ? nil : .some(nil) }
        switch child.action {
        case .include?: return .some(nil)
        case .exclude?: return nil
        case .slice(let skip, let limit)?: return .some(Projection.slice(value, skip: skip, limit: limit))
        case .elemMatch(let node)?:
            guard case .array(let a) = value else { return nil }
            for e in a {
                if case .document(let d) = e, node.matches(d) { return .some(.array([e])) }
            }
            return nil
        case nil:
            switch value {
            case .document(let d): return .some(.document(projectDocument(d, child)))
            case .array(let a): return .some(.array(projectArray(a, child)))
            default: return isInclusion ? nil : .some(nil)
            }
        }
    }

    private func projectDocument(_ d: BSONDocument, _ node: Node) -> BSONDocument {
        var out = BSONDocument()
        for e in d.elements {
            if let v = project(e.value, child: node.children[e.key], raw: true) {
                if let v { out.append(e.key, v) } else { out.append(raw: e) }
            }
        }
        return out
    }

    private func projectArray(_ a: [BSONValue], _ node: Node) -> [BSONValue] {
        var out: [BSONValue] = []
        for e in a {
            switch e {
            case .document(let d): out.append(.document(projectDocument(d, node)))
            case .array(let inner): out.append(.array(projectArray(inner, node)))
            default: if !isInclusion { out.append(e) }
            }
        }
        return out
    }

    static func slice(_ value: BSONValue, skip: Int?, limit: Int) -> BSONValue {
        guard case .array(let a) = value else { return value }
        if let skip {
            let start = skip >= 0 ? min(skip, a.count) : max(0, a.count + skip)
            let end = start + min(a.count - start, limit)
            return .array(Array(a[start..<end]))
        }
        if limit >= 0 { return .array(Array(a.prefix(limit))) }
        return .array(Array(a.suffix(Int(clamping: limit.magnitude))))
    }
}
