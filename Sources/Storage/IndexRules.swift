import BSON

/// MongoDB's rules for creating and dropping indexes, written once for every backend: name and
/// key-pattern conflicts (85, 86), which indexes a drop names (27), and that `_id_` stays (72).
public enum IndexRules {
    /// Whether `spec` is already there (true: nothing to build), or throws the conflict MongoDB
    /// reports when another index has its name or its key pattern with different options.
    public static func alreadyExists(_ spec: IndexSpec, among existing: [IndexSpec]) throws -> Bool {
        if let same = existing.first(where: { $0.name == spec.name }) {
            guard same.sameKey(as: spec) else {
                throw StorageError(.indexKeySpecsConflict,
                    "An existing index has the same name as the requested index. Requested index: \(spec.spec), existing index: \(same.spec)")
            }
            guard same.unique == spec.unique || spec.name == "_id_" else {
                throw StorageError(.indexOptionsConflict,
                    "An existing index has the same name as the requested index. Requested index: \(spec.spec), existing index: \(same.spec)")
            }
            return true
        }
        if let other = existing.first(where: { $0.sameKey(as: spec) }), other.unique == spec.unique {
            throw StorageError(.indexOptionsConflict, "Index already exists with a different name: \(other.name)")
        }
        return false
    }

    /// The indexes a `dropIndexes` target names among the visible ones (27 IndexNotFound for a
    /// name or pattern that is not there; 72 InvalidOptions for `_id_`). `.all` is every index
    /// but `_id_`.
    public static func victims(_ target: IndexTarget, among existing: [IndexSpec]) throws -> [IndexSpec] {
        func find(_ message: String, _ match: (IndexSpec) -> Bool) throws -> IndexSpec {
            guard let spec = existing.first(where: match) else { throw StorageError(.indexNotFound, message) }
            return spec
        }
        let victims: [IndexSpec]
        switch target {
        case .all:
            victims = existing.filter { $0.name != "_id_" }
        case .name(let name):
            victims = [try find("index not found with name [\(name)]") { $0.name == name }]
        case .names(let names):
            victims = try names.map { name in try find("index not found with name [\(name)]") { $0.name == name } }
        case .key(let key):
            let probe = IndexSpec(name: "", key: key.pairs.map { ($0.key, ($0.value.doubleValue ?? 1) < 0 ? -1 : 1) }, unique: false, spec: key)
            victims = [try find("can't find index with key: \(key)") { $0.sameKey(as: probe) }]
        }
        if victims.contains(where: { $0.name == "_id_" }) {
            throw StorageError(.invalidOptions, "cannot drop _id index")
        }
        return victims
    }
}
