import Auth

/// `listDatabases`' `authorizedDatabases` (mongod's rule): under `--auth`, a user without the
/// server-wide right to list databases sees only the databases its roles grant something on.
enum AuthorizedDatabases {
    /// The roles of the connection's users (from the user store, so changes apply at once).
    static func privileges(_ context: CommandContext) async throws -> Privileges {
        var grants: [RoleGrant] = []
        for name in context.session.authentication.users {
            if let user = try await context.environment.auth.users.user(name.user, db: name.db, storage: context.storage) {
                grants += user.roles
            }
        }
        return Privileges(grants)
    }

    /// nil when every database may be listed; otherwise the predicate for the visible ones.
    /// `authorizedDatabases: false` asks for all (and then needs the server-wide right: 13 otherwise).
    static func filter(_ context: CommandContext, requested: Bool?) async throws -> (@Sendable (String) -> Bool)? {
        guard context.environment.auth.enabled else { return nil }
        let privileges = try await privileges(context)
        if privileges.allows(Requirement([.clusterMonitor], on: .cluster)) || privileges.anyDatabase.contains(.read) {
            return nil
        }
        if requested == false {
            throw AuthErrors.notAuthorized("listDatabases: 1", on: "admin", action: "listDatabases")
        }
        return { privileges.touches($0) }
    }

    /// Whether `listCollections` lists anything: always without `--auth`; with it, when the roles
    /// allow listing the database (read or dbAdmin there). The dispatcher lets
    /// `listCollections {authorizedCollections: true, nameOnly: true}` through for any user (as
    /// mongod); such a user without those roles sees an empty list instead of 13.
    static func listsCollections(_ request: CommandRequest, context: CommandContext) async throws -> Bool {
        guard context.environment.auth.enabled else { return true }
        return try await privileges(context).allows(Requirement([.read, .dbAdmin], on: .database(request.database)))
    }
}
