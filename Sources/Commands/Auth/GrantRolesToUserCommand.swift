import Auth
import BSON

/// `grantRolesToUser`: adds built-in roles to a user.
public enum GrantRolesToUserCommand: CommandHandler {
    public static let names = ["grantRolesToUser"]
    public static let help = "Grants roles to a user."
    public static let parameters = ParameterSpec(required: ["roles"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        try await RoleChange.apply(request, context: context) { user, roles in
            for role in roles where !user.roles.contains(role) { user.roles.append(role) }
        }
        return BSONDocument()
    }
}

/// The shared body of `grantRolesToUser` and `revokeRolesFromUser`.
enum RoleChange {
    static func apply(
        _ request: CommandRequest, context: CommandContext, _ change: (inout StoredUser, [RoleGrant]) -> Void
    ) async throws {
        let name = try UserCommandSupport.userName(request)
        let roles = try UserCommandSupport.roles(request.body["roles"], field: "roles", command: request.name, db: request.database)
        let store = context.environment.auth.users
        guard var user = try await store.user(name, db: request.database, storage: context.storage) else {
            throw AuthErrors.userNotFound(name, request.database)
        }
        change(&user, roles)
        guard try await store.replace(user, storage: context.storage) else { throw AuthErrors.userNotFound(name, request.database) }
    }
}
