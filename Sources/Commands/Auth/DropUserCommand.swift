import Auth
import BSON

/// `dropUser`: removes one user of `$db`.
public enum DropUserCommand: CommandHandler {
    public static let names = ["dropUser"]
    public static let help = "Removes a user."
    public static let parameters = ParameterSpec()

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let name = try UserCommandSupport.userName(request)
        let removed = try await context.environment.auth.users.remove(
            matching: ["_id": .string(StoredUser.id(user: name, db: request.database))], storage: context.storage)
        guard removed > 0 else { throw AuthErrors.userNotFound(name, request.database) }
        context.logger.info("dropped user", metadata: ["user": "\(name)", "db": "\(request.database)"])
        return BSONDocument()
    }
}
