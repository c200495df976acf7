/// What a command needs, coarsely: the classes of actions MongoDB's built-in roles are made of.
public enum ActionClass: String, Sendable, Hashable, CaseIterable {
    /// Read documents and metadata (find, aggregate, listCollections, collStats…).
    case read
    /// Write documents and create/drop collections and indexes (insert, update, delete, create…).
    case write
    /// Database administration (dropDatabase, validate, compact, collStats, indexes…).
    case dbAdmin
    /// Manage users of a database (createUser, usersInfo…).
    case userAdmin
    /// Read server-wide state (serverStatus, currentOp, listDatabases of every database…).
    case clusterMonitor
    /// Anything else server-wide (fail points, parameters, shutdown): `root` only.
    case clusterAdmin
}

/// A role granted to a user: role name and the database it applies to.
public struct RoleGrant: Sendable, Hashable {
    /// The role name (`read`, `readWrite`, `root`…).
    public var role: String
    /// The database the role was granted on.
    public var db: String

    /// Creates a grant.
    public init(role: String, db: String) {
        self.role = role
        self.db = db
    }
}

/// MongoDB's built-in roles, as privileges on action classes. Roles ending in `AnyDatabase`,
/// `clusterMonitor`, `clusterAdmin`, `backup`, `restore` and `root` exist only on `admin`.
public enum BuiltinRole: String, Sendable, CaseIterable {
    case read, readWrite, dbAdmin, userAdmin, dbOwner
    case readAnyDatabase, readWriteAnyDatabase, userAdminAnyDatabase, dbAdminAnyDatabase
    case clusterMonitor, clusterAdmin, backup, restore, root

    /// Whether the role may be granted on `db` (the server-wide roles only on `admin`).
    public func exists(on db: String) -> Bool {
        switch self {
        case .read, .readWrite, .dbAdmin, .userAdmin, .dbOwner: return true
        default: return db == "admin"
        }
    }

    /// The action classes the role grants on its own database.
    public var databaseActions: Set<ActionClass> {
        switch self {
        case .read: return [.read]
        case .readWrite: return [.read, .write]
        case .dbAdmin: return [.dbAdmin]
        case .userAdmin: return [.userAdmin]
        case .dbOwner: return [.read, .write, .dbAdmin, .userAdmin]
        default: return []
        }
    }

    /// The action classes the role grants on every database.
    public var anyDatabaseActions: Set<ActionClass> {
        switch self {
        case .readAnyDatabase, .backup: return [.read]
        case .readWriteAnyDatabase: return [.read, .write]
        case .userAdminAnyDatabase: return [.userAdmin]
        case .dbAdminAnyDatabase: return [.dbAdmin]
        case .restore: return [.read, .write]
        case .root: return Set(ActionClass.allCases)
        default: return []
        }
    }

    /// The server-wide action classes the role grants.
    public var clusterActions: Set<ActionClass> {
        switch self {
        case .clusterMonitor, .backup: return [.clusterMonitor]
        case .clusterAdmin: return [.clusterMonitor, .clusterAdmin]
        case .root: return [.clusterMonitor, .clusterAdmin]
        default: return []
        }
    }
}

/// Where an action applies.
public enum ResourceScope: Sendable, Hashable {
    /// One database.
    case database(String)
    /// Every database at once (`usersInfo {forAllDBs: true}`).
    case anyDatabase
    /// The whole server.
    case cluster
}

/// One thing a command needs: any one of `actions` on `scope`.
public struct Requirement: Sendable, Hashable {
    /// Accepted action classes (one is enough).
    public var actions: Set<ActionClass>
    /// Where.
    public var scope: ResourceScope

    /// Creates a requirement.
    public init(_ actions: Set<ActionClass>, on scope: ResourceScope) {
        self.actions = actions
        self.scope = scope
    }
}

/// The privileges a set of role grants adds up to.
public struct Privileges: Sendable, Equatable {
    /// Action classes per database.
    public private(set) var perDatabase: [String: Set<ActionClass>] = [:]
    /// Action classes on every database.
    public private(set) var anyDatabase: Set<ActionClass> = []
    /// Server-wide action classes.
    public private(set) var cluster: Set<ActionClass> = []

    /// Adds up the built-in roles among `grants` (unknown role names grant nothing).
    public init(_ grants: [RoleGrant]) {
        for grant in grants {
            guard let role = BuiltinRole(rawValue: grant.role), role.exists(on: grant.db) else { continue }
            if !role.databaseActions.isEmpty { perDatabase[grant.db, default: []].formUnion(role.databaseActions) }
            anyDatabase.formUnion(role.anyDatabaseActions)
            cluster.formUnion(role.clusterActions)
        }
    }

    /// The action classes granted on `db`. `admin.system.users` and the other `system.` data are
    /// not special-cased here: commands on it require ``ActionClass/userAdmin`` (see the command layer).
    public func actions(on db: String) -> Set<ActionClass> {
        perDatabase[db, default: []].union(anyDatabase)
    }

    /// True when the grants satisfy `requirement`.
    public func allows(_ requirement: Requirement) -> Bool {
        switch requirement.scope {
        case .cluster: return !cluster.isDisjoint(with: requirement.actions)
        case .database(let db): return !actions(on: db).isDisjoint(with: requirement.actions)
        case .anyDatabase: return !anyDatabase.isDisjoint(with: requirement.actions)
        }
    }

    /// True when any grant gives anything on `db` (listDatabases' `authorizedDatabases`).
    public func touches(_ db: String) -> Bool { !actions(on: db).isEmpty }
}
