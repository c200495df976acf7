import Auth
import BSON

/// `rolesInfo`: describes built-in roles (gridlite has no user-defined roles). `1` lists the
/// database's roles when `showBuiltinRoles: true` (none otherwise, as mongod lists only
/// user-defined ones then); `"name"`, `{role, db}` or an array describe those roles.
public enum RolesInfoCommand: CommandHandler {
    public static let names = ["rolesInfo"]
    public static let help = "Describes built-in roles."
    public static let parameters = ParameterSpec(optional: ["showBuiltinRoles", "showPrivileges", "showAuthenticationRestrictions"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let showPrivileges = request.body["showPrivileges"]?.isTruthy ?? false
        var grants: [RoleGrant] = []
        switch request.argument {
        case .int32?, .int64?, .double?:
            if try request.bool("showBuiltinRoles", default: false) {
                grants = BuiltinRole.allCases.filter { $0.exists(on: request.database) }.map { RoleGrant(role: $0.rawValue, db: request.database) }
            }
        case .array(let items)?:
            for item in items { grants.append(try grant(item, db: request.database)) }
        case let value?:
            grants = [try grant(value, db: request.database)]
        case nil:
            throw CommandError.missingField("rolesInfo", in: "rolesInfo")
        }
        let roles: [BSONValue] = grants.compactMap { g in
            guard let role = BuiltinRole(rawValue: g.role), role.exists(on: g.db) else { return nil }
            var doc: BSONDocument = [
                "role": .string(g.role), "db": .string(g.db), "isBuiltin": .bool(true),
                "roles": .array([]), "inheritedRoles": .array([]),
            ]
            if showPrivileges {
                doc.append("privileges", .array(PrivilegeDescription.describe(Privileges([g]))))
                doc.append("inheritedPrivileges", .array(PrivilegeDescription.describe(Privileges([g]))))
            }
            return .document(doc)
        }
        return ["roles": .array(roles)]
    }

    private static func grant(_ value: BSONValue, db: String) throws(CommandError) -> RoleGrant {
        switch value {
        case .string(let role): return RoleGrant(role: role, db: db)
        case .document(let d):
            guard case .string(let role)? = d["role"], case .string(let rdb)? = d["db"] else {
                throw CommandError(.badValue, "Role name must contain 'role' and 'db' string fields")
            }
            return RoleGrant(role: role, db: rdb)
        default:
            throw CommandError(.badValue, "Role name must be either a string or an object")
        }
    }
}
