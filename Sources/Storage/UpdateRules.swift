import BSON
import Query

/// MongoDB's rules for the document an update or upsert produces, written once for every
/// backend: `_id` stays first and unchanged, an upsert seeds from the filter's equality fields,
/// and no result may exceed 16 MiB.
public enum UpdateRules {
    /// The largest document MongoDB stores.
    public static let maxDocumentBytes = 16 * 1024 * 1024

    /// Applies `update` to a stored document, keeping `_id` first and unchanged (66 ImmutableField
    /// otherwise).
    public static func updated(_ doc: BSONDocument, with update: UpdateSpec) throws -> BSONDocument {
        let oldId = doc["_id"] ?? .null
        var (newDoc, _) = try update.apply(to: doc)
        if update.isReplacement {
            if let newId = newDoc["_id"] {
                guard IndexKeyEncoder.encode(newId) == IndexKeyEncoder.encode(oldId), newId.type == oldId.type else {
                    throw immutableId()
                }
            }
            newDoc = newDoc.prepending("_id", oldId)
        } else if let newId = newDoc["_id"], newId.encodedBytes != oldId.encodedBytes || newId.type != oldId.type {
            throw immutableId()
        }
        try checkSize(newDoc)
        return newDoc
    }

    /// The document an upsert inserts: the filter's equality fields, then the update (or the
    /// replacement), with `_id` first (a new ObjectId when neither gives one).
    public static func upsertDocument(filter: Filter, update: UpdateSpec) throws -> BSONDocument {
        let seed = UpdateSpec.upsertSeed(from: filter.document)
        var doc: BSONDocument
        if update.isReplacement {
            (doc, _) = try update.apply(to: seed)
            if doc["_id"] == nil, let id = seed["_id"] { doc = doc.prepending("_id", id) }
        } else {
            (doc, _) = try update.apply(to: seed, isUpsertInsert: true)
        }
        if let id = doc["_id"] {
            try StorableId.check(id)
            doc = doc.prepending("_id", id)
        } else {
            doc = doc.prepending("_id", .objectId(ObjectId()))
        }
        try checkSize(doc)
        return doc
    }

    private static func checkSize(_ doc: BSONDocument) throws {
        guard doc.bytes.count <= maxDocumentBytes else {
            throw StorageError(.bsonObjectTooLarge, "Resulting document after update is larger than \(maxDocumentBytes)")
        }
    }

    private static func immutableId() -> StorageError {
        StorageError(.immutableField, "Performing an update on the path '_id' would modify the immutable field '_id'")
    }
}

/// MongoDB's DuplicateKey (11000) write error for a unique-index violation: the message names
/// the collection, the index and the duplicated values; `keyPattern` and `keyValue` carry them.
public enum DuplicateKeyReport {
    /// The write error for `doc` violating `spec` in `namespace`.
    public static func writeError(_ spec: IndexSpec, doc: BSONDocument, namespace: Namespace, index position: Int) -> WriteError {
        var keyValue = BSONDocument()
        for part in spec.key { keyValue.append(part.path, doc.value(atPath: part.path) ?? .null) }
        let shown = keyValue.pairs.map { "\($0.key): \(BSONDocument([("", $0.value)]).relaxedValueText)" }.joined(separator: ", ")
        let text = "E11000 duplicate key error collection: \(namespace) index: \(spec.name) dup key: { \(shown) }"
        return WriteError(index: position, error: StorageError(.duplicateKey, text), keyPattern: spec.keyDocument, keyValue: keyValue)
    }

    /// The `_id_` index's spec (every collection has it).
    public static let idIndexSpec = IndexSpec(
        name: "_id_", key: [("_id", 1)], unique: true,
        spec: ["v": .int32(2), "key": .document(["_id": .int32(1)]), "name": "_id_"])
}

extension BSONDocument {
    /// The relaxed extended JSON of this one-field document's value (for error messages).
    public var relaxedValueText: String {
        let json = relaxedExtendedJSON
        guard let colon = json.firstIndex(of: ":") else { return json }
        var text = json[json.index(after: colon)...].dropLast()
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}
