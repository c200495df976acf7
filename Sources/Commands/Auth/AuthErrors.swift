import Auth

/// The errors authentication and authorization answer with, worded as mongod words them.
enum AuthErrors {
    /// 18: the one answer to every failed login (bad password, unknown user, bad SCRAM message),
    /// so a client cannot tell which users exist.
    static let authenticationFailed = CommandError(code: 18, codeName: "AuthenticationFailed", message: "Authentication failed.")

    /// 13: a command before authentication.
    static func requiresAuthentication(_ command: String) -> CommandError {
        CommandError(code: 13, codeName: "Unauthorized", message: "Command \(command) requires authentication")
    }

    /// 13: a command the user's roles do not allow (names the database, the command and the action class).
    static func notAuthorized(_ command: String, on db: String, action: String) -> CommandError {
        CommandError(code: 13, codeName: "Unauthorized",
                     message: "not authorized on \(db) to execute command { \(command) } (requires \(action))")
    }

    /// 334: a mechanism gridlite does not offer, or one the user has no credential for.
    static func mechanismUnavailable(_ mechanism: String) -> CommandError {
        CommandError(code: 334, codeName: "MechanismUnavailable",
                     message: "Received authentication for mechanism \(mechanism) which is not enabled")
    }

    /// 17: `saslContinue` without a matching `saslStart`.
    static let noConversation = CommandError(code: 17, codeName: "ProtocolError", message: "No SASL session state found")

    /// 11: an unknown user in user management.
    static func userNotFound(_ user: String, _ db: String) -> CommandError {
        CommandError(code: 11, codeName: "UserNotFound", message: "Could not find user \"\(user)\" for db \"\(db)\"")
    }

    /// 51003: `createUser` for a user that exists.
    static func userExists(_ user: String, _ db: String) -> CommandError {
        CommandError(code: 51003, codeName: "Location51003", message: "User \"\(user)@\(db)\" already exists")
    }

    /// 31: a role that is not a built-in role on that database.
    static func roleNotFound(_ role: RoleGrant) -> CommandError {
        CommandError(code: 31, codeName: "RoleNotFound", message: "Could not find role: \(role.role)@\(role.db)")
    }
}
