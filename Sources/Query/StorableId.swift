import BSON

/// mongod's `validIdField`: the `_id` values a stored document may hold. Shared by insert and the
/// upsert path so both answer as mongod does.
public enum StorableId {
    /// Throws 53 `InvalidIdField` for an array, regex or undefined `_id` ("The '_id' value cannot
    /// be of type array", mongod 5.0 through 8.x), and 52 `DollarPrefixedFieldName` for an
    /// embedded document with a `$`-prefixed field.
    public static func check(_ id: BSONValue) throws(QueryError) {
        switch id {
        case .array, .regex, .undefined:
            throw QueryError(code: 53, codeName: "InvalidIdField",
                             message: "The '_id' value cannot be of type \(id.type.alias)")
        case .document(let d):
            if let key = d.keys.first(where: { $0.hasPrefix("$") }) {
                throw QueryError(code: 52, codeName: "DollarPrefixedFieldName",
                                 message: "_id fields may not contain '$'-prefixed fields: \(key) is not valid for storage.")
            }
        default: break
        }
    }
}
