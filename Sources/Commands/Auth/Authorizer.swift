import Auth
import BSON

/// Authorization under `--auth`, checked by the dispatcher for every command before its handler
/// runs (deny by default): the handshake and authentication commands run for anyone; every other
/// command needs an authenticated user whose built-in roles grant what ``requirements(_:)`` lists.
/// A command this table does not know needs ``ActionClass/clusterAdmin`` (`root`).
///
/// The localhost exception (as mongod's): while no user exists, a connection from the loopback
/// address may run `createUser` on `admin` (and nothing else beyond the pre-authentication set).
enum Authorizer {
    /// Commands anyone may run, authenticated or not.
    static let unauthenticated: Set<String> = [
        "hello", "isMaster", "ismaster", "saslStart", "saslContinue", "authenticate", "logout", "ping",
        "buildInfo", "buildinfo", "whatsmyuri", "connectionStatus", "getnonce",
    ]

    /// Commands any authenticated user may run (they act on the caller's own state, or filter
    /// their answer: `listDatabases`, `usersInfo` for oneself).
    static let anyAuthenticated: Set<String> = [
        "endSessions", "killAllSessions", "killSessions", "refreshSessions", "startSession", "listCommands",
        "getLastError", "getlasterror", "rolesInfo", "listDatabases",
    ]

    /// Checks `request` against the connection's users (only called with `--auth`).
    static func check(_ request: CommandRequest, context: CommandContext) async throws {
        let name = request.name
        if unauthenticated.contains(name) { return }
        let auth = context.environment.auth
        let users = context.session.authentication.users
        if users.isEmpty {
            if name == "createUser", request.database == "admin", isLoopback(context.connection.remoteAddress),
               try await !auth.users.hasUsers(context.storage) {
                context.logger.info("localhost exception: creating the first user", metadata: [
                    "remote": "\(context.connection.remoteAddress)"])
                return
            }
            throw AuthErrors.requiresAuthentication(name)
        }
        if anyAuthenticated.contains(name) { return }
        if name == "listCollections", request.body["authorizedCollections"]?.isTruthy == true,
           request.body["nameOnly"]?.isTruthy == true {
            return   // the handler lists only what the roles allow
        }
        var grants: [RoleGrant] = []
        for user in users {
            if let stored = try await auth.users.user(user.user, db: user.db, storage: context.storage) {
                grants += stored.roles
            }
        }
        if name == "usersInfo", case .names(let names)? = try? UsersInfoCommand.selection(request),
           names.allSatisfy({ users.contains($0) }) {
            return   // viewing oneself needs no role
        }
        let privileges = Privileges(grants)
        for requirement in requirements(request) where !privileges.allows(requirement) {
            let db: String
            switch requirement.scope {
            case .database(let d): db = d
            case .anyDatabase, .cluster: db = "admin"
            }
            throw AuthErrors.notAuthorized(describe(request), on: db, action: action(request))
        }
    }

    /// What a command needs. Reads of `admin.system.users` and writes to it need userAdmin on `admin`.
    static func requirements(_ request: CommandRequest) -> [Requirement] {
        let db = request.database
        let here = ResourceScope.database(db)
        let collection: String? = {
            if case .string(let c)? = request.argument { return c }
            return nil
        }()
        if db == "admin", collection == "system.users" || (request.name == "getMore" && request.body["collection"] == "system.users") {
            return [Requirement([.userAdmin], on: here)]
        }
        switch request.name {
        case "find", "count", "distinct", "getMore", "killCursors":
            return [Requirement([.read], on: here)]
        case "aggregate":
            return aggregateRequirements(request)
        case "listCollections", "listIndexes", "collStats", "dbStats", "dbstats":
            return [Requirement([.read, .dbAdmin], on: here)]
        case "insert", "update", "delete", "findAndModify", "findandmodify":
            return [Requirement([.write], on: here)]
        case "create", "createIndexes", "drop", "dropIndexes", "deleteIndexes":
            return [Requirement([.write, .dbAdmin], on: here)]
        case "renameCollection":
            var out: [Requirement] = []
            for value in [request.argument, request.body["to"]] {
                if case .string(let ns)? = value, let dot = ns.firstIndex(of: ".") {
                    out.append(Requirement([.write, .dbAdmin], on: .database(String(ns[..<dot]))))
                }
            }
            return out.isEmpty ? [Requirement([.clusterAdmin], on: .cluster)] : out
        case "dropDatabase", "validate", "compact":
            return [Requirement([.dbAdmin], on: here)]
        case "createUser", "updateUser", "dropUser", "dropAllUsersFromDatabase", "grantRolesToUser",
             "revokeRolesFromUser":
            return [Requirement([.userAdmin], on: here)]
        case "usersInfo":
            if case .all? = try? UsersInfoCommand.selection(request) { return [Requirement([.userAdmin], on: .anyDatabase)] }
            if case .names(let names)? = try? UsersInfoCommand.selection(request) {
                return Set(names.map(\.db)).sorted().map { Requirement([.userAdmin], on: .database($0)) }
            }
            return [Requirement([.userAdmin], on: here)]
        case "serverStatus", "currentOp", "hostInfo", "getCmdLineOpts", "getParameter", "getLog":
            return [Requirement([.clusterMonitor], on: .cluster)]
        default:
            return [Requirement([.clusterAdmin], on: .cluster)]
        }
    }

    /// `aggregate` reads its collection; `$out`/`$merge` also write; `$currentOp` is cluster monitoring.
    static func aggregateRequirements(_ request: CommandRequest) -> [Requirement] {
        var out = [Requirement([.read], on: .database(request.database))]
        guard case .array(let stages)? = request.body["pipeline"] else { return out }
        for stage in stages {
            guard case .document(let d) = stage, let key = d.keys.first else { continue }
            switch key {
            case "$currentOp", "$listLocalSessions":
                out.append(Requirement([.clusterMonitor], on: .cluster))
            case "$out", "$merge":
                var target = request.database
                if case .document(let spec)? = d[key], case .string(let tdb)? = spec["db"] { target = tdb }
                if case .document(let spec)? = d[key], case .document(let into)? = spec["into"], case .string(let tdb)? = into["db"] {
                    target = tdb
                }
                out.append(Requirement([.write], on: .database(target)))
            default:
                continue
            }
        }
        return out
    }

    /// mongod's action name for the error message.
    static func action(_ request: CommandRequest) -> String {
        switch request.name {
        case "find", "count", "distinct", "aggregate", "getMore": return "find"
        case "delete": return "remove"
        case "findAndModify", "findandmodify": return "update"
        case "create": return "createCollection"
        case "drop": return "dropCollection"
        case "createIndexes": return "createIndex"
        case "dropIndexes", "deleteIndexes": return "dropIndex"
        case "usersInfo": return "viewUser"
        case "currentOp": return "inprog"
        default: return request.name
        }
    }

    /// `insert: "fs.files"` — the command and its target, as mongod's message shows them (no
    /// other field: the body may hold documents or secrets).
    static func describe(_ request: CommandRequest) -> String {
        switch request.argument {
        case .string(let s)?: return "\(request.name): \"\(s)\""
        case let v? where v.isNumber: return "\(request.name): \(v.intValue ?? 1)"
        default: return request.name
        }
    }

    /// True for 127.0.0.0/8 and ::1 (with or without the IPv4-mapped prefix).
    static func isLoopback(_ remote: String) -> Bool {
        let host = AuthFailureThrottle.host(of: remote)
        return host.hasPrefix("127.") || host == "::1" || host.hasPrefix("::ffff:127.") || host == "localhost"
    }
}
