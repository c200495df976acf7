import Auth
import BSON

/// `createUser`: stores a SCRAM user (credentials only, never the password) in `admin.system.users`.
public enum CreateUserCommand: CommandHandler {
    public static let names = ["createUser"]
    public static let help = "Creates a user with SCRAM credentials and built-in roles."
    public static let parameters = ParameterSpec(
        required: ["pwd", "roles"], optional: ["mechanisms", "customData", "digestPassword"],
        ignored: ["authenticationRestrictions"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let name = try UserCommandSupport.userName(request)
        guard let password = try UserCommandSupport.password(request) else { throw CommandError.missingField("pwd", in: "createUser") }
        let roles = try UserCommandSupport.roles(request.body["roles"], field: "roles", command: "createUser", db: request.database)
        let mechanisms = try UserCommandSupport.mechanisms(request.body["mechanisms"], command: "createUser") ?? ScramMechanism.allCases
        let user = StoredUser(
            user: name, db: request.database, userId: try StoredUser.makeUUID(),
            credentials: try UserCommandSupport.credentials(user: name, password: password, mechanisms: mechanisms),
            roles: roles, customData: try request.document("customData"))
        guard try await context.environment.auth.users.insert(user, storage: context.storage) else {
            throw AuthErrors.userExists(name, request.database)
        }
        context.logger.info("created user", metadata: ["user": "\(name)", "db": "\(request.database)"])
        return BSONDocument()
    }
}
