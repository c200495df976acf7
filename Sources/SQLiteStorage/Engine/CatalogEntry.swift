import BSON
import Storage

/// How an index's keys are kept.
enum IndexBacking: String, Sendable {
    /// `_id_`: the `id_key` column with its unique SQLite index.
    case idColumn = "id"
    /// The GridFS key column `k` (`files_id`+`n` on chunks, `filename`+`uploadDate` on files).
    case keyColumn = "k"
    /// A side table `x<index id>(key, rid)`, one row per key.
    case table = "table"
}

/// One index of a collection, as the backend keeps it.
struct IndexEntry: Sendable {
    /// Catalog row id (names the side table `x<id>`).
    let id: Int64
    /// The definition.
    var spec: IndexSpec
    /// Where its keys live.
    var backing: IndexBacking
    /// True for the built-in GridFS key column no client has asked for (not listed).
    var hidden: Bool
    /// True once some document produced several keys.
    var multikey: Bool

    /// The side table's name.
    var table: String { "x\(id)" }

    /// The key paths.
    var paths: [String] { spec.key.map(\.path) }

    /// Per-field descending flags.
    var descending: [Bool] { spec.key.map { $0.direction < 0 } }

    /// The planner's view of this index.
    var descriptor: IndexDescriptor {
        IndexDescriptor(name: spec.name, key: spec.key, unique: spec.unique, multikey: multikey)
    }
}

/// One collection, as the backend keeps it.
struct CollectionEntry: Sendable {
    /// Catalog row id (names the table `c<id>`).
    let id: Int64
    /// Its namespace.
    var namespace: Namespace
    /// Layout kind.
    var kind: CollectionKind
    /// Creation options.
    var options: BSONDocument
    /// Stable identifier.
    let uuid: [UInt8]
    /// Indexes, `_id_` first.
    var indexes: [IndexEntry]

    /// The document table's name.
    var table: String { "c\(id)" }

    /// The built-in key column's index, when this kind has one.
    var keyColumnIndex: IndexEntry? { indexes.first { $0.backing == .keyColumn } }

    /// Indexes clients see in listIndexes.
    var visibleIndexes: [IndexEntry] { indexes.filter { !$0.hidden } }

    /// Side-table indexes, which every write must maintain.
    var tableIndexes: [IndexEntry] { indexes.filter { $0.backing == .table } }

    /// What the planner may use.
    var descriptors: [IndexDescriptor] { indexes.map(\.descriptor) }

    /// The paths of the built-in GridFS key column for a kind.
    static func keyColumnPaths(_ kind: CollectionKind) -> [String]? {
        switch kind {
        case .gridFSChunks: return ["files_id", "n"]
        case .gridFSFiles: return ["filename", "uploadDate"]
        case .plain: return nil
        }
    }

    /// The name of the built-in key index while no client has asked for it (never listed, and
    /// unlike any name a client may choose).
    static let hiddenKeyIndexName = "$gridlite_key"

    /// The built-in index's spec for a kind, under `name` (the hidden name by default).
    static func keyColumnSpec(_ kind: CollectionKind, unique: Bool, name: String = hiddenKeyIndexName) -> IndexSpec? {
        guard let paths = keyColumnPaths(kind) else { return nil }
        var spec: BSONDocument = ["v": .int32(2), "key": .document(BSONDocument(paths.map { ($0, .int32(1)) })), "name": .string(name)]
        if unique { spec.append("unique", .bool(true)) }
        return IndexSpec(name: name, key: paths.map { ($0, 1) }, unique: unique, spec: spec)
    }

    /// The `_id_` index spec.
    static let idIndexSpec = IndexSpec(
        name: "_id_", key: [("_id", 1)], unique: true,
        spec: ["v": .int32(2), "key": .document(["_id": .int32(1)]), "name": "_id_"])
}
