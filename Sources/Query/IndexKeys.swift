import BSON

extension IndexKeyEncoder {
    /// The encoded index keys of `doc` for an index on `paths` (compound, with per-field
    /// direction), as MongoDB builds them: a missing field indexes as null; an array field is
    /// multikey (one key per distinct element; an empty array indexes as undefined); at most one
    /// field may be an array (else CannotIndexParallelArrays, code 171). Keys are distinct and
    /// sorted; for a single-valued document there is exactly one key.
    public static func keys(for doc: BSONDocument, paths: [String], descending: [Bool] = []) throws -> [[UInt8]] {
        var perField: [[BSONValue]] = []
        var arrayField: String?
        for p in paths {
            let (values, isArray) = indexValues(doc, FieldPath(p))
            if isArray {
                if let other = arrayField {
                    throw QueryError(code: 171, codeName: "CannotIndexParallelArrays",
                                     message: "cannot index parallel arrays [\(p)] [\(other)]")
                }
                arrayField = p
            }
            perField.append(values)
        }
        var combos: [[BSONValue]] = [[]]
        for values in perField {
            combos = combos.flatMap { prefix in values.map { prefix + [$0] } }
        }
        let encoded = Set(combos.map { encode($0, descending: descending) })
        return encoded.sorted { memcmpLess($0, $1) }
    }

    /// The values a path contributes to index keys, and whether an array was expanded.
    static func indexValues(_ doc: BSONDocument, _ path: FieldPath) -> ([BSONValue], Bool) {
        var out: [BSONValue] = []
        var sawArray = false
        _ = PathWalker.any(doc, path) { v in
            switch v {
            case nil: out.append(.null)
            case .array(let a)?:
                sawArray = true
                if a.isEmpty { out.append(.undefined) }
                out.append(contentsOf: a)
            case let x?: out.append(x)
            }
            return false
        }
        if out.isEmpty { out = [.null] }
        // Traversal through an array of documents also makes the index multikey.
        if !sawArray { sawArray = out.count > 1 }
        return (out, sawArray)
    }

    static func memcmpLess(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        for (x, y) in zip(a, b) where x != y { return x < y }
        return a.count < b.count
    }
}
