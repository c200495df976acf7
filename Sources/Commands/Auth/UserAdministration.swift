import Auth
import BSON
import Storage

/// User management for the offline `gridlite users` command (the same rules and storage as
/// `createUser`/`dropUser`/`usersInfo`, without a server).
public enum UserAdministration {
    /// Creates a user with credentials for `mechanisms` (default both); roles as `role` (on `db`)
    /// or `role@db`. Throws a MongoDB-style error (51003 when the user exists, 31 for an unknown role).
    public static func add(
        user: String, db: String, password: String, roles: [String], mechanisms: [String] = [],
        storage: any StorageEngine
    ) async throws {
        guard !user.isEmpty else { throw CommandError(.badValue, "the user name must not be empty") }
        guard !password.isEmpty else { throw CommandError(.badValue, "Password cannot be empty") }
        let grants = try UserCommandSupport.roles(
            .array(roles.map { spec -> BSONValue in
                if let at = spec.lastIndex(of: "@") {
                    return .document(["role": .string(String(spec[..<at])), "db": .string(String(spec[spec.index(after: at)...]))])
                }
                return .string(spec)
            }), field: "roles", command: "users add", db: db)
        let chosen = try mechanisms.isEmpty
            ? ScramMechanism.allCases
            : (UserCommandSupport.mechanisms(.array(mechanisms.map { .string($0) }), command: "users add") ?? ScramMechanism.allCases)
        let stored = StoredUser(
            user: user, db: db, userId: try StoredUser.makeUUID(),
            credentials: try UserCommandSupport.credentials(user: user, password: password, mechanisms: chosen), roles: grants)
        guard try await UserStore().insert(stored, storage: storage) else { throw AuthErrors.userExists(user, db) }
    }

    /// Every user as `db.user  roles  mechanisms` lines, sorted.
    public static func list(storage: any StorageEngine) async throws -> [String] {
        try await UserStore().all(storage).values.sorted { $0.id < $1.id }.map { user in
            let roles = user.roles.map { "\($0.role)@\($0.db)" }.joined(separator: ",")
            let mechanisms = user.mechanisms.map(\.rawValue).joined(separator: ",")
            return "\(user.id)\troles=\(roles)\tmechanisms=\(mechanisms)"
        }
    }

    /// Removes a user; false when there was none.
    public static func remove(user: String, db: String, storage: any StorageEngine) async throws -> Bool {
        try await UserStore().remove(matching: ["_id": .string(StoredUser.id(user: user, db: db))], storage: storage) > 0
    }
}
