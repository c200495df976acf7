import Auth
import BSON

/// `connectionStatus`: who is authenticated on this connection (from its session), their roles
/// (from the user store, so a revoked role disappears at once) and, with `showPrivileges`, the
/// privileges those roles add up to.
public enum ConnectionStatusCommand: CommandHandler {
    public static let names = ["connectionStatus"]
    public static let help = "Reports the authenticated users and roles of this connection."
    public static let parameters = ParameterSpec(optional: ["showPrivileges"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let names = context.session.authentication.users
        var grants: [RoleGrant] = []
        for name in names {
            if let user = try await context.environment.auth.users.user(name.user, db: name.db, storage: context.storage) {
                for role in user.roles where !grants.contains(role) { grants.append(role) }
            }
        }
        let users = names.map { u -> BSONValue in .document(["user": .string(u.user), "db": .string(u.db)]) }
        var info: BSONDocument = [
            "authenticatedUsers": .array(users),
            "authenticatedUserRoles": .array(grants.map { .document(["role": .string($0.role), "db": .string($0.db)]) }),
        ]
        if try request.bool("showPrivileges", default: false) {
            info.append("authenticatedUserPrivileges", .array(PrivilegeDescription.describe(Privileges(grants))))
        }
        return ["authInfo": .document(info)]
    }
}
