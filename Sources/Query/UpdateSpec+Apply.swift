import BSON
import Foundation

extension UpdateSpec {
    /// Applies the update to `doc`. For a replacement, the result is the replacement with the
    /// original `_id` first. `isUpsertInsert` enables `$setOnInsert`. `modified` is false when
    /// the result is byte-identical to the input. Throws ImmutableField (66) when `_id` would
    /// change, PathNotViable (28), TypeMismatch (14) or BadValue (2) for impossible operations.
    public func apply(to doc: BSONDocument, isUpsertInsert: Bool = false) throws -> (document: BSONDocument, modified: Bool) {
        let originalId = doc["_id"]
        if let replacement {
            var result = replacement
            if let originalId {
                if let newId = replacement["_id"], newId != originalId {
                    throw QueryError.immutableField("After applying the update, the (immutable) field '_id' was found to have been altered to _id: \(describeValue(newId))")
                }
                result = replacement.prepending("_id", originalId)
            }
            try UpdateSpec.checkDepth(result)
            return (result, result.bytes != doc.bytes)
        }
        var current = doc
        let now = Date()
        for action in actions {
            if case .rename(let to) = action.op {
                current = try rename(current, from: action.path, to: to)
                continue
            }
            if case .setOnInsert = action.op, !isUpsertInsert { continue }
            let create: Bool
            switch action.op {
            case .unset, .pull, .pullAll, .pop: create = false
            default: create = true
            }
            if let edited = try DocumentEditor.edit(current, action.path, create: create, { v in
                try UpdateSpec.step(action, v, doc: doc, now: now)
            }) {
                current = edited
            }
        }
        if let originalId, current["_id"] != originalId {
            throw QueryError.immutableField("Performing an update on the path '_id' would modify the immutable field '_id'")
        }
        try UpdateSpec.checkDepth(current)
        return (current, current.bytes != doc.bytes)
    }

    func rename(_ doc: BSONDocument, from: FieldPath, to: FieldPath) throws -> BSONDocument {
        var walker: BSONValue = .document(doc)
        for c in from.components {
            switch walker {
            case .document(let d):
                guard let v = d[c] else { return doc }
                walker = v
            case .array:
                throw QueryError.badValue("The source field cannot be an array element, '\(from)' in doc with \(from.components[0]): \(describeValue(doc[from.components[0]] ?? .null))")
            default:
                return doc
            }
        }
        let moving = walker
        var out = try DocumentEditor.edit(doc, from, create: false) { _ in .remove } ?? doc
        out = try DocumentEditor.edit(out, to, create: true) { _ in .set(moving) } ?? out
        return out
    }

    static func step(_ action: Action, _ v: BSONValue?, doc: BSONDocument, now: Date) throws -> Edit {
        func setIfChanged(_ x: BSONValue) -> Edit { v == x ? .keep : .set(x) }
        let field = action.path.components.last ?? ""
        switch action.op {
        case .set(let x), .setOnInsert(let x):
            return setIfChanged(x)
        case .unset:
            return .remove
        case .inc(let x), .mul(let x):
            let isInc: Bool
            if case .inc = action.op { isInc = true } else { isInc = false }
            guard let v else { return .set(isInc ? x : UpdateArithmetic.zero(like: x)) }
            guard v.isNumber else {
                let idPart = doc["_id"].map { "{_id: \(describeValue($0))}" } ?? "{}"
                throw QueryError.typeMismatch("Cannot apply \(action.name) to a value of non-numeric type. \(idPart) has the field '\(field)' of non-numeric type \(v.type.alias)")
            }
            guard let result = UpdateArithmetic.apply(isInc ? .add : .multiply, v, x) else {
                let current: String
                switch v {
                case .int32(let i): current = "(NumberInt)\(i)"
                case .int64(let i): current = "(NumberLong)\(i)"
                default: current = describeValue(v)
                }
                let idPart = doc["_id"].map { "_id: \(describeValue($0))" } ?? "no id"
                throw QueryError.badValue("Failed to apply \(action.name) operations to current value (\(current)) for document {\(idPart)}")
            }
            return setIfChanged(result)
        case .min(let x), .max(let x):
            guard let v else { return .set(x) }
            let c = compareBSON(x, v)
            if case .min = action.op { return c < 0 ? .set(x) : .keep }
            return c > 0 ? .set(x) : .keep
        case .currentDate(let timestamp):
            let ms = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
            return .set(timestamp ? .timestamp(LogicalClock.tick(now: now)) : .datetime(ms))
        case .push(let spec):
            var arr: [BSONValue]
            switch v {
            case nil: arr = []
            case .array(let a)?: arr = a
            case let other?:
                throw QueryError.badValue("The field '\(field)' must be an array but is of type \(other.type.alias) in document {_id: \(describeValue(doc["_id"] ?? .null))}")
            }
            return .set(.array(push(spec, into: arr)))
        case .addToSet(let items):
            var arr: [BSONValue]
            switch v {
            case nil: arr = []
            case .array(let a)?: arr = a
            case let other?:
                throw QueryError.badValue("Cannot apply $addToSet to non-array field. Field named '\(field)' has non-array type \(other.type.alias)")
            }
            let before = arr.count
            for item in items where !arr.contains(where: { compareBSON($0, item) == 0 }) { arr.append(item) }
            return (v == nil || arr.count != before) ? .set(.array(arr)) : .keep
        case .pull(let cond):
            let edit = try filterArray(v, action) { e in
                switch cond {
                case .equals(let x): return compareBSON(e, x) == 0
                case .valuePredicate(let node): return node.matches(value: e)
                case .documentQuery(let node):
                    if case .document(let d) = e { return node.matches(d) }
                    return false
                }
            }
            // A regex that hit a PCRE2 limit answered "no match": 51156, as for a filter.
            switch cond {
            case .equals: break
            case .valuePredicate(let node), .documentQuery(let node):
                for regex in node.regexes {
                    if let error = regex.matchError { throw error }
                }
            }
            return edit
        case .pullAll(let items):
            return try filterArray(v, action) { e in items.contains { compareBSON($0, e) == 0 } }
        case .pop(let first):
            guard let v else { return .keep }
            guard case .array(var a) = v else {
                throw QueryError.badValue("Path '\(action.path)' contains an element of non-array type '\(v.type.alias)'")
            }
            if a.isEmpty { return .keep }
            if first { a.removeFirst() } else { a.removeLast() }
            return .set(.array(a))
        case .rename:
            return .keep
        }
    }

    static func filterArray(_ v: BSONValue?, _ action: Action, _ remove: (BSONValue) -> Bool) throws -> Edit {
        guard let v else { return .keep }
        guard case .array(let a) = v else { throw QueryError.badValue("Cannot apply \(action.name) to a non-array value") }
        let kept = a.filter { !remove($0) }
        return kept.count == a.count ? .keep : .set(.array(kept))
    }

    static func push(_ spec: PushSpec, into arr: [BSONValue]) -> [BSONValue] {
        var out = arr
        if let p = spec.position {
            let at = p >= 0 ? min(p, out.count) : max(0, out.count + p)
            out.insert(contentsOf: spec.items, at: at)
        } else {
            out.append(contentsOf: spec.items)
        }
        switch spec.sort {
        case .value(let descending)?:
            out = stableSorted(out) { a, b in descending ? compareBSON(b, a) : compareBSON(a, b) }
        case .fields(let sortSpec)?:
            out = stableSorted(out) { a, b in
                sortSpec.compare(a.documentValue ?? BSONDocument(), b.documentValue ?? BSONDocument())
            }
        case nil:
            break
        }
        if let s = spec.slice {
            out = s >= 0 ? Array(out.prefix(s)) : Array(out.suffix(Int(clamping: s.magnitude)))
        }
        return out
    }

    /// 15 `Overflow` when an update result nests deeper than a stored document may.
    static func checkDepth(_ doc: BSONDocument) throws(QueryError) {
        guard doc.storageDepth <= BSONDocument.maxStorageDepth else {
            throw QueryError(code: 15, codeName: "Overflow", message: "Document exceeds maximum nesting depth of \(BSONDocument.maxStorageDepth)")
        }
    }

    static func stableSorted(_ a: [BSONValue], _ cmp: (BSONValue, BSONValue) -> Int) -> [BSONValue] {
        a.enumerated().sorted { x, y in
            let c = cmp(x.element, y.element)
            return c != 0 ? c < 0 : x.offset < y.offset
        }.map(\.element)
    }

    /// The document an upsert starts from: the equality fields of `filter` (`{a: 1}`,
    /// `{a: {$eq: 1}}`, dotted paths become nested documents, `$and` clauses are searched too).
    public static func upsertSeed(from filter: BSONDocument) -> BSONDocument {
        var seed = BSONDocument()
        func collect(_ f: BSONDocument) {
            for (key, value) in f {
                if key == "$and", case .array(let clauses) = value {
                    for case .document(let c) in clauses { collect(c) }
                    continue
                }
                if key.hasPrefix("$") { continue }
                var v = value
                if case .document(let d) = value, FilterParser.isOperatorDocument(d) {
                    guard let eq = d["$eq"] else { continue }
                    v = eq
                } else if case .regex = value {
                    continue
                }
                let path = FieldPath(key)
                guard !path.isEmpty, !path.components.contains(where: \.isEmpty) else { continue }
                if let edited = try? DocumentEditor.edit(seed, path, create: true, { _ in .set(v) }) {
                    seed = edited
                }
            }
        }
        collect(filter)
        return seed
    }
}
