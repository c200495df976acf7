import BSON
import Storage

/// `create`: creates a collection explicitly; 48 `NamespaceExists` when it exists.
public enum CreateCommand: CommandHandler {
    public static let names = ["create"]
    public static let help = "Creates a collection."
    public static let parameters = ParameterSpec(
        ignored: ["writeConcern", "comment", "storageEngine", "indexOptionDefaults", "autoIndexId", "flags"],
        unimplemented: ["capped", "timeseries", "clusteredIndex", "viewOn", "pipeline", "validator", "collation",
                        "changeStreamPreAndPostImages", "expireAfterSeconds", "encryptedFields"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let namespace = try request.creatableNamespace()
        var options = BSONDocument()
        for e in request.body.elements where e.key != request.name && !ParameterSpec.generic.contains(e.key) {
            options.append(raw: e)
        }
        try await context.storage.createCollection(namespace, options: options)
        return BSONDocument()
    }
}
