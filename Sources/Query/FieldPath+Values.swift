import BSON

extension FieldPath {
    /// The values `distinct` collects from `doc` at this path: arrays met along the way are
    /// traversed and an array at the end is unwound into its elements; missing values are skipped.
    public func distinctValues(in doc: BSONDocument) -> [BSONValue] {
        var out: [BSONValue] = []
        _ = PathWalker.any(doc, self) { value in
            switch value {
            case nil: break
            case .array(let elements)?: out.append(contentsOf: elements)
            case let v?: out.append(v)
            }
            return false
        }
        return out
    }
}
