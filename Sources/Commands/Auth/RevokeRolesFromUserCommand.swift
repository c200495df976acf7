import Auth
import BSON

/// `revokeRolesFromUser`: removes roles from a user.
public enum RevokeRolesFromUserCommand: CommandHandler {
    public static let names = ["revokeRolesFromUser"]
    public static let help = "Revokes roles from a user."
    public static let parameters = ParameterSpec(required: ["roles"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        try await RoleChange.apply(request, context: context) { user, roles in
            user.roles.removeAll { roles.contains($0) }
        }
        return BSONDocument()
    }
}
