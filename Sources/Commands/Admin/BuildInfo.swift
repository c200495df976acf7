import BSON

/// `buildInfo` / `buildinfo`: the MongoDB version gridlite is compatible with, and its limits.
public enum BuildInfoCommand: CommandHandler {
    public static let names = ["buildInfo", "buildinfo"]
    public static let help = "Reports the server version and build facts."
    public static let parameters = ParameterSpec.lenient

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        [
            "version": .string(ServerEnvironment.mongoVersion),
            "gitVersion": .string("gridlite-\(context.environment.gridliteVersion)"),
            "versionArray": .array(ServerEnvironment.mongoVersionArray.map { .int32($0) }),
            "gridliteVersion": .string(context.environment.gridliteVersion),
            "modules": .array([]),
            "allocator": "system",
            "javascriptEngine": "none",
            "sysInfo": "deprecated",
            "bits": .int32(64),
            "debug": .bool(false),
            "maxBsonObjectSize": .int32(ServerEnvironment.maxBsonObjectSize),
            "storageEngines": .array([.string(context.environment.storageEngineName)]),
        ]
    }
}
