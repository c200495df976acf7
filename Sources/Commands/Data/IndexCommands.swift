import BSON
import Storage

/// `createIndexes`: creates indexes, creating the collection when needed. The same spec twice is
/// fine; another spec under an existing name is 85/86; a unique index over duplicates is 11000.
public enum CreateIndexesCommand: CommandHandler {
    public static let names = ["createIndexes"]
    public static let help = "Creates indexes."
    public static let parameters = ParameterSpec(
        required: ["indexes"], ignored: ["writeConcern", "commitQuorum", "comment"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let namespace = try request.creatableNamespace()
        guard case .array(let values)? = request.body["indexes"] else {
            throw CommandError.wrongType("indexes", in: "createIndexes", expected: "array", got: request.body["indexes"]?.type ?? .null)
        }
        guard !values.isEmpty else { throw CommandError(.badValue, "Must specify at least one index to create") }
        var specs: [IndexSpec] = []
        for v in values {
            guard case .document(let d) = v else {
                throw CommandError(.typeMismatch, "The field 'indexes' must be an array of objects")
            }
            specs.append(try IndexSpec.parse(d))
        }
        let result = try await context.storage.createIndexes(specs, on: namespace)
        var reply: BSONDocument = [
            "numIndexesBefore": .int32(Int32(clamping: result.numIndexesBefore)),
            "numIndexesAfter": .int32(Int32(clamping: result.numIndexesAfter)),
        ]
        if result.numIndexesBefore == result.numIndexesAfter {
            reply.append("note", "all indexes already exist")
        }
        reply.append("createdCollectionAutomatically", .bool(result.createdCollectionAutomatically))
        return reply
    }
}

/// `listIndexes`: a cursor over a collection's index specs (26 when the collection is missing);
/// `cursor.batchSize` limits the first batch, the rest comes from `getMore` on
/// `<db>.$cmd.listIndexes.<collection>`.
public enum ListIndexesCommand: CommandHandler {
    public static let names = ["listIndexes"]
    public static let help = "Lists a collection's indexes."
    public static let parameters = ParameterSpec(optional: ["cursor"], ignored: ["comment"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let namespace = try request.namespace()
        let options = try CursorOptions.parse(request)
        let specs = try await context.storage.listIndexes(namespace)
        let docs = specs.map { $0.spec }
        let cursorNS = Namespace(unchecked: namespace.database, "$cmd.listIndexes.\(namespace.collection)")
        return try await CursorBatch.firstBatch(
            of: docs, batchSize: options?.batchSize, namespace: cursorNS, request: request, context: context)
    }
}

/// `dropIndexes` / `deleteIndexes`: drops an index by name, by key pattern, a list of names, or `"*"`.
public enum DropIndexesCommand: CommandHandler {
    public static let names = ["dropIndexes", "deleteIndexes"]
    public static let help = "Drops indexes."
    public static let parameters = ParameterSpec(required: ["index"], ignored: ["writeConcern", "comment"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let namespace = try request.namespace()
        let target: IndexTarget
        switch request.body["index"] {
        case .string("*")?: target = .all
        case .string(let name)?: target = .name(name)
        case .document(let key)?: target = .key(key)
        case .array(let names)?:
            target = .names(try names.map { v throws(CommandError) in
                guard case .string(let s) = v else { throw CommandError(.typeMismatch, "dropIndexes: index names must be strings") }
                return s
            })
        default:
            throw CommandError(.typeMismatch, "dropIndexes: 'index' must be a string, an array of strings or an object")
        }
        let before = try await context.storage.dropIndexes(target, on: namespace)
        return ["nIndexesWas": .int32(Int32(clamping: before))]
    }
}

extension IndexSpec {
    /// mongod's limit on the fields of a compound index key.
    static let maxKeyFields = 32

    /// Parses one createIndexes entry: `{key, name, unique, ...}`.
    static func parse(_ d: BSONDocument) throws(CommandError) -> IndexSpec {
        guard case .document(let key)? = d["key"] else {
            throw CommandError(.failedToParse, "The 'key' field is a required property of an index specification")
        }
        guard case .string(let name)? = d["name"], !name.isEmpty else {
            throw CommandError(.failedToParse, "The 'name' field is a required property of an index specification")
        }
        var parts: [(path: String, direction: Int)] = []
        for e in key.elements {
            let v = e.value
            guard let n = v.doubleValue, n != 0 else {
                if case .string(let kind) = v {
                    throw CommandError(.notImplemented, "index type '\(kind)' is not implemented yet")
                }
                throw CommandError(.cannotCreateIndex, "Values in the index key pattern can't be 0 or non-numbers: \(key)")
            }
            guard !e.key.isEmpty, !e.key.hasPrefix("$") else {
                throw CommandError(.cannotCreateIndex, "Index key contains an illegal field name: '\(e.key)'")
            }
            parts.append((e.key, n > 0 ? 1 : -1))
        }
        guard !parts.isEmpty else { throw CommandError(.cannotCreateIndex, "Index keys cannot be empty.") }
        guard parts.count <= IndexSpec.maxKeyFields else {
            throw CommandError(.cannotCreateIndex, "Index key pattern has \(parts.count) fields; the limit is \(IndexSpec.maxKeyFields)")
        }
        for option in ["partialFilterExpression", "collation", "expireAfterSeconds", "sparse", "hidden", "wildcardProjection"] {
            if let v = d[option], v != .null, v != .bool(false) {
                throw CommandError(.notImplemented, "index option '\(option)' is not implemented yet")
            }
        }
        var spec: BSONDocument = ["v": .int32(2), "key": .document(key), "name": .string(name)]
        let unique = d["unique"]?.isTruthy ?? false
        if unique { spec.append("unique", .bool(true)) }
        for e in d.elements where !["v", "key", "name", "unique", "ns", "background"].contains(e.key) {
            spec.append(raw: e)
        }
        return IndexSpec(name: name, key: parts, unique: unique, spec: spec)
    }
}
