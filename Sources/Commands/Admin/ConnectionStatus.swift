import BSON

/// `connectionStatus`: who is authenticated on this connection, from its session. gridlite has no
/// authentication yet, so the lists are empty (as on a mongod without `--auth`).
public enum ConnectionStatusCommand: CommandHandler {
    public static let names = ["connectionStatus"]
    public static let help = "Reports the authenticated users and roles of this connection."
    public static let parameters = ParameterSpec(optional: ["showPrivileges"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let users = context.session.authentication.users.map { u -> BSONValue in
            .document(["user": .string(u.user), "db": .string(u.db)])
        }
        var info: BSONDocument = ["authenticatedUsers": .array(users), "authenticatedUserRoles": .array([])]
        if try request.bool("showPrivileges", default: false) {
            info.append("authenticatedUserPrivileges", .array([]))
        }
        return ["authInfo": .document(info)]
    }
}
