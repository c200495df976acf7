import BSON
import Storage

/// `dropDatabase`: drops every collection of the database.
public enum DropDatabaseCommand: CommandHandler {
    public static let names = ["dropDatabase"]
    public static let help = "Drops the current database."
    public static let parameters = ParameterSpec(ignored: ["writeConcern", "comment"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        try Namespace.checkDatabaseName(request.database)
        try await context.storage.dropDatabase(request.database)
        return ["dropped": .string(request.database)]
    }
}
