import BSON

/// The document-reshaping stages `$project`, `$addFields`/`$set` and `$unset`, as a tree of
/// field actions.
///
/// * Inclusion (`$project` with `1`/`true` or computed fields): keeps the named fields in the
///   input's order, `_id` unless `_id: 0`, then appends computed fields in specification order.
/// * Exclusion (`$project` with `0`/`false`, `$unset`): drops the named fields.
/// * Add fields: keeps everything, replacing named fields in place and appending new ones.
///
/// Dotted paths and nested specifications (`{a: {b: 1}}`) address embedded documents; at an
/// array the action applies to each element.
struct AggregationProjection: Sendable {
    enum Mode: Sendable { case inclusion, exclusion, addFields }

    indirect enum Entry: Sendable {
        case include
        case exclude
        case computed(Expression)
        case nested(Node)
    }

    struct Node: Sendable {
        var entries: [(key: String, entry: Entry)] = []

        func entry(_ key: String) -> Entry? {
            entries.first(where: { $0.key == key })?.entry
        }

        var hasComputed: Bool {
            entries.contains { e in
                switch e.entry {
                case .computed: return true
                case .nested(let n): return n.hasComputed
                default: return false
                }
            }
        }
    }

    let mode: Mode
    let root: Node

    // MARK: Parsing

    /// Parses a `$project` specification.
    static func project(_ spec: BSONDocument, variables: [String: BSONValue]) throws(QueryError) -> AggregationProjection {
        var flat: [(String, Entry)] = []
        try flatten(spec, prefix: "", stage: "$project", computedOnly: false, variables: variables, into: &flat)
        guard !flat.isEmpty else {
            throw QueryError.location(51272, "Invalid $project :: caused by :: projection specification must have at least one field")
        }
        var mode: Mode?
        for (path, entry) in flat where path != "_id" {
            switch entry {
            case .exclude:
                if mode == .inclusion {
                    throw QueryError.location(31254, "Invalid $project :: caused by :: Cannot do exclusion on field \(path) in inclusion projection")
                }
                mode = .exclusion
            case .include, .computed:
                if mode == .exclusion {
                    if case .computed = entry {
                        throw QueryError.location(31252, "Invalid $project :: caused by :: Cannot use expression other than $meta in exclusion projection")
                    }
                    throw QueryError.location(31253, "Invalid $project :: caused by :: Cannot do inclusion on field \(path) in exclusion projection")
                }
                mode = .inclusion
            case .nested: break
            }
        }
        let idEntry = flat.first(where: { $0.0 == "_id" })?.1
        if mode == nil {
            if case .exclude? = idEntry { mode = .exclusion } else { mode = .inclusion }
        }
        var root = Node()
        if mode == .inclusion, idEntry == nil { root.entries.append(("_id", .include)) }
        for (path, entry) in flat {
            if mode == .exclusion, path == "_id", case .include = entry { continue }
            if mode == .exclusion, path == "_id", case .computed = entry {
                throw QueryError.location(31252, "Invalid $project :: caused by :: Cannot use expression other than $meta in exclusion projection")
            }
            try insert(path, entry, into: &root, stage: "$project")
        }
        return AggregationProjection(mode: mode ?? .inclusion, root: root)
    }

    /// Parses an `$addFields` / `$set` specification.
    static func addFields(_ spec: BSONDocument, stage: String, variables: [String: BSONValue]) throws(QueryError) -> AggregationProjection {
        var flat: [(String, Entry)] = []
        try flatten(spec, prefix: "", stage: stage, computedOnly: true, variables: variables, into: &flat)
        var root = Node()
        for (path, entry) in flat { try insert(path, entry, into: &root, stage: stage) }
        return AggregationProjection(mode: .addFields, root: root)
    }

    /// Parses an `$unset` specification: a path or a non-empty array of paths.
    static func unset(_ spec: BSONValue) throws(QueryError) -> AggregationProjection {
        var paths: [String] = []
        switch spec {
        case .string(let s): paths = [s]
        case .array(let a) where !a.isEmpty:
            for v in a {
                guard case .string(let s) = v else {
                    throw QueryError.location(31120, "$unset specification must be a string or an array containing only string values")
                }
                paths.append(s)
            }
        default:
            throw QueryError.location(31119, "$unset specification must be a string or an array with at least one field")
        }
        var root = Node()
        for p in paths {
            try checkPath(p, stage: "$unset")
            try insert(p, .exclude, into: &root, stage: "$unset")
        }
        return AggregationProjection(mode: .exclusion, root: root)
    }

    static func checkPath(_ path: String, stage: String) throws(QueryError) {
        if path.isEmpty { throw QueryError.location(40352, "Invalid \(stage) :: caused by :: FieldPath cannot be constructed with empty string") }
        for c in path.split(separator: ".", omittingEmptySubsequences: false) {
            if c.isEmpty { throw QueryError.location(15998, "Invalid \(stage) :: caused by :: FieldPath field names may not be empty strings.") }
            if c.hasPrefix("$") { throw QueryError.location(16410, "Invalid \(stage) :: caused by :: FieldPath field names may not start with '$'. Consider using $getField or $setField.") }
        }
    }

    static func flatten(_ spec: BSONDocument, prefix: String, stage: String, computedOnly: Bool,
                        variables: [String: BSONValue], into out: inout [(String, Entry)]) throws(QueryError) {
        for (key, value) in spec {
            try checkPath(key, stage: stage)
            let path = prefix.isEmpty ? key : prefix + "." + key
            switch value {
            case _ where !computedOnly && (value.isNumber || value.boolValue != nil):
                out.append((path, value.isTruthy ? .include : .exclude))
            case .document(let d) where !(d.keys.first?.hasPrefix("$") ?? false):
                if d.isEmpty {
                    if computedOnly { out.append((path, .computed(.literal(value)))); continue }
                    throw QueryError.location(51270, "Invalid \(stage) :: caused by :: An empty sub-projection is not a valid value. Found empty object at path")
                }
                try flatten(d, prefix: path, stage: stage, computedOnly: computedOnly, variables: variables, into: &out)
            default:
                out.append((path, .computed(try Expression.parse(value, variables: variables))))
            }
        }
    }

    static func insert(_ path: String, _ entry: Entry, into root: inout Node, stage: String) throws(QueryError) {
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        func go(_ node: inout Node, _ i: Int) throws(QueryError) {
            let key = parts[i]
            let index = node.entries.firstIndex(where: { $0.key == key })
            if i == parts.count - 1 {
                guard index == nil else { throw QueryError.location(31250, "Invalid \(stage) :: caused by :: Path collision at \(path)") }
                node.entries.append((key, entry))
                return
            }
            var child = Node()
            if let index {
                guard case .nested(let existing) = node.entries[index].entry else {
                    throw QueryError.location(31250, "Invalid \(stage) :: caused by :: Path collision at \(path) remaining portion \(parts[(i + 1)...].joined(separator: "."))")
                }
                child = existing
            }
            try go(&child, i + 1)
            if let index { node.entries[index].entry = .nested(child) } else { node.entries.append((key, .nested(child))) }
        }
        try go(&root, 0)
    }

    // MARK: Applying

    /// Reshapes `doc`.
    func apply(_ doc: BSONDocument) throws(QueryError) -> BSONDocument {
        try apply(root, doc, doc)
    }

    private func apply(_ node: Node, _ doc: BSONDocument, _ rootDoc: BSONDocument) throws(QueryError) -> BSONDocument {
        var out = BSONDocument()
        var seen = Set<String>()
        for e in doc.elements {
            let key = e.key
            guard let entry = node.entry(key) else {
                if mode != .inclusion { out.append(raw: e) }
                continue
            }
            seen.insert(key)
            switch entry {
            case .include:
                out.append(raw: e)
            case .exclude:
                continue
            case .computed(let expr):
                // Inclusion appends computed fields after the kept ones; add-fields replaces in place.
                if mode == .addFields, let v = try expr.evaluate(rootDoc) { out.append(key, v) }
            case .nested(let child):
                if let v = try applyNested(child, e.value, rootDoc) { out.append(key, v) }
            }
        }
        guard mode != .exclusion else { return out }
        for (key, entry) in node.entries {
            switch entry {
            case .computed(let expr) where mode == .inclusion || !seen.contains(key):
                if let v = try expr.evaluate(rootDoc) { out.append(key, v) }
            case .nested(let child) where !seen.contains(key) && child.hasComputed:
                out.append(key, .document(try apply(child, BSONDocument(), rootDoc)))
            default:
                break
            }
        }
        return out
    }

    /// The value of a field with a nested specification; nil drops it.
    private func applyNested(_ child: Node, _ value: BSONValue, _ rootDoc: BSONDocument) throws(QueryError) -> BSONValue? {
        switch value {
        case .document(let d):
            return .document(try apply(child, d, rootDoc))
        case .array(let a):
            var out: [BSONValue] = []
            for e in a {
                if let v = try applyNested(child, e, rootDoc) { out.append(v) }
            }
            return .array(out)
        default:
            switch mode {
            case .exclusion: return value
            case .inclusion: return child.hasComputed ? .document(try apply(child, BSONDocument(), rootDoc)) : nil
            case .addFields: return .document(try apply(child, BSONDocument(), rootDoc))
            }
        }
    }
}
