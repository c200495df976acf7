import Auth
import BSON

/// `updateUser`: a new password (new salts and keys), roles, mechanisms or customData.
public enum UpdateUserCommand: CommandHandler {
    public static let names = ["updateUser"]
    public static let help = "Changes a user's password, roles, mechanisms or customData."
    public static let parameters = ParameterSpec(
        optional: ["pwd", "roles", "mechanisms", "customData", "digestPassword"], ignored: ["authenticationRestrictions"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let name = try UserCommandSupport.userName(request)
        let store = context.environment.auth.users
        guard var user = try await store.user(name, db: request.database, storage: context.storage) else {
            throw AuthErrors.userNotFound(name, request.database)
        }
        let password = try UserCommandSupport.password(request)
        let mechanisms = try UserCommandSupport.mechanisms(request.body["mechanisms"], command: "updateUser")
        let roles = try request.body["roles"].map { v throws(CommandError) in
            try UserCommandSupport.roles(v, field: "roles", command: "updateUser", db: request.database)
        }
        let customData = try request.document("customData")
        guard password != nil || mechanisms != nil || roles != nil || customData != nil else {
            throw CommandError(.badValue, "Must specify at least one field to update in updateUser")
        }
        if let password {
            user.credentials = try UserCommandSupport.credentials(
                user: name, password: password, mechanisms: mechanisms ?? ScramMechanism.allCases)
        } else if let mechanisms {
            guard mechanisms.allSatisfy({ user.credentials[$0] != nil }) else {
                throw CommandError(.badValue, "mechanisms field must be a subset of previously set mechanisms")
            }
            user.credentials = user.credentials.filter { mechanisms.contains($0.key) }
        }
        if let roles { user.roles = roles }
        if let customData { user.customData = customData }
        guard try await store.replace(user, storage: context.storage) else { throw AuthErrors.userNotFound(name, request.database) }
        context.logger.info("updated user", metadata: ["user": "\(name)", "db": "\(request.database)"])
        return BSONDocument()
    }
}
