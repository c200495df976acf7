import Auth
import BSON
import Query

/// `usersInfo`: `1` (every user of `$db`), `"name"`, `{user, db}`, an array of those, or
/// `{forAllDBs: true}`. Credentials are left out unless `showCredentials: true`; each user lists
/// its `mechanisms`, as on mongod. (Which users the caller may see is checked by ``Authorizer``.)
public enum UsersInfoCommand: CommandHandler {
    public static let names = ["usersInfo"]
    public static let help = "Describes users."
    public static let parameters = ParameterSpec(
        optional: ["showCredentials", "showPrivileges", "showAuthenticationRestrictions", "filter", "showCustomData"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let selection = try selection(request)
        let showCredentials = try request.bool("showCredentials", default: false)
        let showCustomData = try request.bool("showCustomData", default: true)
        let users = try await context.environment.auth.users.all(context.storage)
        let chosen = users.values.filter { user in
            switch selection {
            case .all: return true
            case .database(let db): return user.db == db
            case .names(let names): return names.contains(UserName(user: user.user, db: user.db))
            }
        }.sorted { $0.id < $1.id }
        let filter = try request.document("filter").map { try Filter($0) }
        var out: [BSONValue] = []
        for user in chosen {
            var doc: BSONDocument = ["_id": .string(user.id)]
            doc.append("userId", .binary(BSONBinary(subtype: 4, data: user.userId)))
            doc.append("user", .string(user.user))
            doc.append("db", .string(user.db))
            if showCredentials {
                var creds = BSONDocument()
                for m in user.mechanisms { if let c = user.credentials[m] { creds.append(m.rawValue, .document(c.document)) } }
                doc.append("credentials", .document(creds))
            }
            if showCustomData, let custom = user.customData { doc.append("customData", .document(custom)) }
            doc.append("roles", StoredUser.rolesValue(user.roles))
            doc.append("mechanisms", .array(user.mechanisms.map { .string($0.rawValue) }))
            if let filter, !filter.matches(doc) { continue }
            out.append(.document(doc))
        }
        return ["users": .array(out)]
    }

    /// Which users a request names.
    enum Selection: Equatable {
        case all
        case database(String)
        case names([UserName])
    }

    /// Reads the command's argument.
    static func selection(_ request: CommandRequest) throws(CommandError) -> Selection {
        guard let argument = request.argument else { throw CommandError.missingField("usersInfo", in: "usersInfo") }
        switch argument {
        case .int32, .int64, .double:
            return .database(request.database)
        case .document(let d) where d["forAllDBs"] != nil:
            guard d["forAllDBs"]?.isTruthy == true else { return .database(request.database) }
            return .all
        case .array(let items):
            var names: [UserName] = []
            for item in items { names.append(try name(item, db: request.database)) }
            return .names(names)
        default:
            return .names([try name(argument, db: request.database)])
        }
    }

    private static func name(_ value: BSONValue, db: String) throws(CommandError) -> UserName {
        switch value {
        case .string(let user): return UserName(user: user, db: db)
        case .document(let d):
            guard case .string(let user)? = d["user"], case .string(let udb)? = d["db"] else {
                throw CommandError(.badValue, "User name must contain 'user' and 'db' string fields")
            }
            return UserName(user: user, db: udb)
        default:
            throw CommandError(.badValue, "User name must be either a string or an object")
        }
    }
}
