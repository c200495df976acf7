import BSON

/// `dropAllUsersFromDatabase`: removes every user of `$db`; answers `n`.
public enum DropAllUsersFromDatabaseCommand: CommandHandler {
    public static let names = ["dropAllUsersFromDatabase"]
    public static let help = "Removes every user of a database."
    public static let parameters = ParameterSpec()

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let removed = try await context.environment.auth.users.remove(
            matching: ["db": .string(request.database)], storage: context.storage)
        context.logger.info("dropped all users", metadata: ["db": "\(request.database)", "n": "\(removed)"])
        return ["n": .int32(Int32(clamping: removed))]
    }
}
