import Auth
import BSON

/// Privileges as mongod describes them (`{resource: {db, collection}, actions: [...]}`), for
/// `connectionStatus {showPrivileges: true}` and `rolesInfo {showPrivileges: true}`.
enum PrivilegeDescription {
    /// mongod's action names behind each action class.
    static func actions(_ action: ActionClass) -> [String] {
        switch action {
        case .read:
            return ["collStats", "dbHash", "dbStats", "find", "killCursors", "listCollections", "listIndexes"]
        case .write:
            return ["createCollection", "createIndex", "dropCollection", "dropIndex", "insert", "remove",
                    "renameCollectionSameDB", "update"]
        case .dbAdmin:
            return ["collMod", "collStats", "compact", "createCollection", "createIndex", "dbStats", "dropCollection",
                    "dropDatabase", "dropIndex", "listCollections", "listIndexes", "renameCollectionSameDB", "validate"]
        case .userAdmin:
            return ["changeCustomData", "changePassword", "createUser", "dropUser", "grantRole", "revokeRole",
                    "viewRole", "viewUser"]
        case .clusterMonitor:
            return ["getCmdLineOpts", "getParameter", "hostInfo", "inprog", "listDatabases", "serverStatus"]
        case .clusterAdmin:
            return ["anyAction"]
        }
    }

    /// The privilege documents of a set of grants.
    static func describe(_ privileges: Privileges) -> [BSONValue] {
        var out: [BSONValue] = []
        func entry(_ resource: BSONDocument, _ classes: Set<ActionClass>) {
            guard !classes.isEmpty else { return }
            let names = Set(classes.flatMap(actions)).sorted()
            out.append(.document(["resource": .document(resource), "actions": .array(names.map { .string($0) })]))
        }
        for db in privileges.perDatabase.keys.sorted() {
            entry(["db": .string(db), "collection": ""], privileges.perDatabase[db] ?? [])
        }
        entry(["db": "", "collection": ""], privileges.anyDatabase)
        entry(["cluster": .bool(true)], privileges.cluster)
        return out
    }
}
