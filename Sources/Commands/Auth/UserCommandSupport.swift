import Auth
import BSON

/// What the user-management commands share: reading `roles` and `mechanisms`, deriving credentials.
enum UserCommandSupport {
    /// `roles: ["read", {role: "readWrite", db: "media"}]`; a bare name is a role on `db`. Only
    /// built-in roles exist (31 RoleNotFound otherwise, as mongod for an unknown role).
    static func roles(_ value: BSONValue?, field: String, command: String, db: String) throws(CommandError) -> [RoleGrant] {
        guard let value else { throw CommandError.missingField(field, in: command) }
        guard case .array(let items) = value else {
            throw CommandError.wrongType(field, in: command, expected: "array", got: value.type)
        }
        var grants: [RoleGrant] = []
        for item in items {
            let grant: RoleGrant
            switch item {
            case .string(let role):
                grant = RoleGrant(role: role, db: db)
            case .document(let d):
                guard case .string(let role)? = d["role"], case .string(let rdb)? = d["db"] else {
                    throw CommandError(.badValue, "Role names must be either strings or objects with 'role' and 'db' string fields")
                }
                grant = RoleGrant(role: role, db: rdb)
            default:
                throw CommandError(.badValue, "Role names must be either strings or objects")
            }
            guard let builtin = BuiltinRole(rawValue: grant.role), builtin.exists(on: grant.db) else {
                throw AuthErrors.roleNotFound(grant)
            }
            if !grants.contains(grant) { grants.append(grant) }
        }
        return grants
    }

    /// `mechanisms: ["SCRAM-SHA-256"]`, or nil when absent.
    static func mechanisms(_ value: BSONValue?, command: String) throws(CommandError) -> [ScramMechanism]? {
        guard let value else { return nil }
        guard case .array(let items) = value else {
            throw CommandError.wrongType("mechanisms", in: command, expected: "array", got: value.type)
        }
        var out: [ScramMechanism] = []
        for item in items {
            guard case .string(let name) = item, let mechanism = ScramMechanism(rawValue: name) else {
                throw CommandError(.badValue, "Unknown auth mechanism '\(item)'")
            }
            if !out.contains(mechanism) { out.append(mechanism) }
        }
        guard !out.isEmpty else { throw CommandError(.badValue, "mechanisms field must not be empty") }
        return out
    }

    /// The user name of `createUser`/`updateUser`/`dropUser`… (a non-empty string).
    static func userName(_ request: CommandRequest) throws(CommandError) -> String {
        guard case .string(let name)? = request.argument else {
            throw CommandError.wrongType(request.name, in: request.name, expected: "string", got: request.argument?.type ?? .null)
        }
        guard !name.isEmpty else { throw CommandError(.badValue, "User document needs 'user' field to be non-empty") }
        guard request.database != "$external" else {
            throw CommandError(.badValue, "gridlite supports SCRAM users only; $external users are not supported")
        }
        return name
    }

    /// `pwd` as a non-empty string, or nil when absent.
    static func password(_ request: CommandRequest) throws(CommandError) -> String? {
        guard let pwd = try request.string("pwd") else { return nil }
        guard !pwd.isEmpty else { throw CommandError(.badValue, "Password cannot be empty") }
        if try !request.bool("digestPassword", default: true) {
            throw CommandError(.badValue, "Use of SCRAM-SHA-256 requires undigested passwords")
        }
        return pwd
    }

    /// Fresh credentials for each mechanism (random salts, mongod's iteration counts). PBKDF2 runs
    /// here, once per password change, never at login.
    static func credentials(user: String, password: String, mechanisms: [ScramMechanism]) throws -> [ScramMechanism: ScramCredential] {
        var out: [ScramMechanism: ScramCredential] = [:]
        for mechanism in mechanisms {
            do {
                out[mechanism] = try ScramCredential.make(mechanism, user: user, password: password)
            } catch is SASLprep.Failure {
                throw CommandError(.badValue, "Error preparing password for SCRAM-SHA-256: the password contains prohibited characters")
            }
        }
        return out
    }
}
