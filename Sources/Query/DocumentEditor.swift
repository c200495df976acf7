import BSON

/// What an update step does to the value at a path.
enum Edit {
    case keep
    case set(BSONValue)
    case remove
}

/// Edits the value at a dotted path of a document, creating intermediate documents where
/// allowed, as MongoDB's update system does: existing fields keep their position, new fields
/// are appended, numeric components index arrays (padding with nulls when setting past the end),
/// and removing an array element sets it to null.
enum DocumentEditor {
    /// How many nulls a positional update may pad an array with (MongoDB's limit).
    static let maxBackfill = 1_500_000

    /// Returns the edited document, or nil when nothing changed. `create` allows creating missing
    /// intermediate documents (false for `$unset`, `$pull`, `$pop`, `$rename`'s source).
    static func edit(_ doc: BSONDocument, _ path: FieldPath, create: Bool,
                     _ body: (BSONValue?) throws -> Edit) throws -> BSONDocument? {
        try edit(doc, path, 0, create: create, body)
    }

    static func edit(_ doc: BSONDocument, _ path: FieldPath, _ i: Int, create: Bool,
                     _ body: (BSONValue?) throws -> Edit) throws -> BSONDocument? {
        // An empty path (the filter key "") names no field: there is nothing to edit.
        guard i < path.count else { return nil }
        let key = path.components[i]
        let current = doc[key]
        if i == path.count - 1 {
            switch try body(current) {
            case .keep: return nil
            case .set(let v):
                var out = doc
                out.set(key, v)
                return out
            case .remove:
                guard current != nil else { return nil }
                var out = doc
                out.remove(key)
                return out
            }
        }
        let replacement: BSONValue?
        switch current {
        case .document(let sub)?:
            replacement = try edit(sub, path, i + 1, create: create, body).map { .document($0) }
        case .array(let arr)?:
            replacement = try editArray(arr, path, i + 1, create: create, body).map { .array($0) }
        case nil:
            guard create else { return nil }
            replacement = try edit(BSONDocument(), path, i + 1, create: create, body).map { .document($0) }
        case let other?:
            guard create else { return nil }
            throw QueryError.pathNotViable("Cannot create field '\(path.components[i + 1])' in element {\(key): \(describeValue(other))}")
        }
        guard let replacement else { return nil }
        var out = doc
        out.set(key, replacement)
        return out
    }

    static func editArray(_ arr: [BSONValue], _ path: FieldPath, _ i: Int, create: Bool,
                          _ body: (BSONValue?) throws -> Edit) throws -> [BSONValue]? {
        guard let idx = path.indexes[i] else {
            guard create else { return nil }
            throw QueryError.pathNotViable("Cannot create field '\(path.components[i])' in element {\(path.components[i - 1]): \(describeValue(.array(arr)))}")
        }
        if idx >= arr.count + maxBackfill {
            throw QueryError.badValue("can't backfill array to larger than \(maxBackfill) elements")
        }
        var out = arr
        // Spelled out: in `idx < arr.count ? arr[idx] : nil` the literal `nil` is typed as BSONValue
        // (ExpressibleByNilLiteral → .null), so a missing element read as a present null
        // (FuzzQuery: `$unset` past the end trapped; `$inc` past the end saw null).
        let current: BSONValue? = idx < arr.count ? .some(arr[idx]) : .none
        if i == path.count - 1 {
            switch try body(current) {
            case .keep: return nil
            case .remove:
                guard current != nil else { return nil }
                out[idx] = .null
                return out
            case .set(let v):
                while out.count <= idx { out.append(.null) }
                out[idx] = v
                return out
            }
        }
        let replacement: BSONValue?
        switch current {
        case .document(let sub)?:
            replacement = try edit(sub, path, i + 1, create: create, body).map { .document($0) }
        case .array(let inner)?:
            replacement = try editArray(inner, path, i + 1, create: create, body).map { .array($0) }
        case nil:
            guard create else { return nil }
            replacement = try edit(BSONDocument(), path, i + 1, create: create, body).map { .document($0) }
        case let other?:
            guard create else { return nil }
            throw QueryError.pathNotViable("Cannot create field '\(path.components[i + 1])' in element {\(path.components[i]): \(describeValue(other))}")
        }
        guard let replacement else { return nil }
        while out.count <= idx { out.append(.null) }
        out[idx] = replacement
        return out
    }

    /// The value at `path` without array traversal except by numeric position (for `$rename`
    /// sources and upsert seeds); nil when missing.
    static func value(_ doc: BSONDocument, _ path: FieldPath) -> BSONValue? {
        doc.value(atPath: path.dotted)
    }
}
