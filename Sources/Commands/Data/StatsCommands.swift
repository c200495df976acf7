import BSON
import Storage

/// `collStats`: document count and sizes of a collection (zeros for a missing one, as mongod 7).
public enum CollStatsCommand: CommandHandler {
    public static let names = ["collStats"]
    public static let help = "Reports a collection's sizes."
    public static let parameters = ParameterSpec(optional: ["scale"], ignored: ["verbose", "comment"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let namespace = try request.namespace()
        let scale = Int64(max(1, try request.int("scale") ?? 1))
        let s = try await context.storage.collectionStats(namespace)
        var sizes = BSONDocument()
        var total: Int64 = 0
        for (name, size) in s.indexSizes {
            sizes.append(name, .int64(size / scale))
            total += size
        }
        return [
            "ns": .string(namespace.description),
            "size": .int64(s.size / scale),
            "count": .int64(Int64(s.count)),
            "avgObjSize": .int64(s.count > 0 ? s.size / Int64(s.count) : 0),
            "storageSize": .int64(s.storageSize / scale),
            "nindexes": .int32(Int32(clamping: s.indexSizes.count)),
            "totalIndexSize": .int64(total / scale),
            "totalSize": .int64((s.storageSize + total) / scale),
            "indexSizes": .document(sizes),
            "scaleFactor": .int64(scale),
            "capped": .bool(false),
        ]
    }
}

/// `dbStats`: totals for a database.
public enum DbStatsCommand: CommandHandler {
    public static let names = ["dbStats"]
    public static let help = "Reports a database's sizes."
    public static let parameters = ParameterSpec(optional: ["scale"], ignored: ["freeStorage", "comment"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let scale = Int64(max(1, try request.int("scale") ?? 1))
        let s = try await context.storage.databaseStats(request.database)
        return [
            "db": .string(request.database),
            "collections": .int64(Int64(s.collections)),
            "views": .int64(0),
            "objects": .int64(Int64(s.objects)),
            "avgObjSize": .double(s.objects > 0 ? Double(s.dataSize) / Double(s.objects) : 0),
            "dataSize": .double(Double(s.dataSize / scale)),
            "storageSize": .double(Double(s.storageSize / scale)),
            "indexes": .int64(Int64(s.indexes)),
            "indexSize": .double(Double(s.indexSize / scale)),
            "totalSize": .double(Double((s.storageSize + s.indexSize) / scale)),
            "scaleFactor": .int64(scale),
        ]
    }
}

/// `validate`: checks a collection; for GridFS buckets also reports chunks without a files
/// document and files with missing or wrong-size chunks.
public enum ValidateCommand: CommandHandler {
    public static let names = ["validate"]
    public static let help = "Checks a collection's consistency (and its GridFS bucket's)."
    public static let parameters = ParameterSpec(optional: ["full"], ignored: ["background", "repair", "metadata", "checkBSONConformance", "comment"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let namespace = try request.namespace()
        let report = try await context.storage.validate(namespace, full: try request.bool("full", default: false))
        return [
            "ns": .string(namespace.description),
            "nrecords": .int64(Int64(report.recordsChecked)),
            "valid": .bool(report.valid),
            "errors": .array(report.errors.map { .string($0) }),
            "warnings": .array(report.warnings.map { .string($0) }),
        ]
    }
}
