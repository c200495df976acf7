import BSON

/// The wave-2 commands: authentication (SASL/SCRAM and user administration), the `failCommand`
/// fail point, `currentOp` and the integrity commands (`validate`, `compact`), each with its own
/// fields and edge values. Which server answers them (`--auth`, a stored user, test commands) is
/// the input's ``FuzzMode``.
extension Grammar {
    /// The user the harness can store and log in as (``FuzzMode/rootUser``).
    public static let rootUser = "fuzzroot"
    /// Its password.
    public static let rootPassword = "fuzz-password"

    static let mechanisms = ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "MONGODB-X509", "GSSAPI", "", "scram-sha-256"]
    static let roleNames = ["root", "readWrite", "read", "dbAdmin", "userAdmin", "userAdminAnyDatabase", "readAnyDatabase",
                            "clusterMonitor", "nope", ""]
    static let userNames = [rootUser, rootUser, "u", "", "a\u{0}b", "é", "$x", String(repeating: "u", count: 300)]

    /// One wave-2 command (appended to `body`).
    mutating func adminCommand(_ body: inout BSONDocument) {
        switch input.choose(14) {
        case 0, 1:
            body.append("saslStart", wild(.int32(1)))
            body.append("mechanism", wild(.string(input.pick(Self.mechanisms))))
            body.append("payload", wild(saslPayload(first: true)))
            if input.chance(40) { body.append("options", wild(.document(["skipEmptyExchange": .bool(input.chance(50))]))) }
            if input.chance(20) { body.append("autoAuthorize", wild(.int32(1))) }
        case 2, 3:
            body.append("saslContinue", wild(.int32(1)))
            body.append("conversationId", wild(input.pick([.int32(1), .int32(2), .int32(0), number()])))
            body.append("payload", wild(saslPayload(first: false)))
        case 4:
            body.append(input.pick(["createUser", "updateUser"]), wild(.string(input.pick(Self.userNames))))
            if input.chance(85) { body.append("pwd", wild(.string(input.pick([Self.rootPassword, "", "p", "\u{0}"])))) }
            if input.chance(85) { body.append("roles", wild(.array(roles()))) }
            if input.chance(30) {
                body.append("mechanisms", wild(.array((0..<smallCount(3)).map { _ in .string(input.pick(Self.mechanisms)) })))
            }
            if input.chance(20) { body.append("customData", wild(.document(document(depth: 1)))) }
            if input.chance(15) { body.append("digestPassword", wild(.bool(input.chance(50)))) }
        case 5:
            body.append(input.pick(["dropUser", "usersInfo", "dropAllUsersFromDatabase"]), wild(.string(input.pick(Self.userNames))))
            if input.chance(30) { body.append(input.pick(["showCredentials", "showCustomData", "showPrivileges", "filter"]), value(depth: 1)) }
        case 6:
            body.append("usersInfo", wild(input.pick([
                .int32(1), .document(["forAllDBs": .bool(true)]), .document(["user": .string(Self.rootUser), "db": "admin"]),
                .array([.string(Self.rootUser), .document(["user": "u", "db": "fuzz"])]),
            ])))
        case 7:
            body.append(input.pick(["grantRolesToUser", "revokeRolesFromUser"]), wild(.string(input.pick(Self.userNames))))
            body.append("roles", wild(.array(roles())))
        case 8:
            body.append("rolesInfo", wild(input.pick([.int32(1), "root", .document(["role": "read", "db": "fuzz"]), .array(["read", "x"])])))
            if input.chance(40) { body.append(input.pick(["showBuiltinRoles", "showPrivileges"]), wild(.bool(true))) }
        case 9:
            body.append(input.pick(["logout", "connectionStatus"]), wild(.int32(1)))
            if input.chance(30) { body.append("showPrivileges", wild(.bool(true))) }
        case 10, 11:
            failPoint(&body)
        case 12:
            body.append("currentOp", wild(.int32(1)))
            for field in ["$all", "$ownOps", "idleConnections", "active", "ns", "op"] where input.chance(20) {
                body.append(field, value(depth: 1))
            }
        default:
            body.append(input.pick(["validate", "compact", "collStats", "dbStats"]), wild(.string(input.pick(Self.collections))))
            for field in ["full", "force", "repair", "background", "scale", "checkBSONConformance"] where input.chance(25) {
                body.append(field, wild(input.chance(50) ? .bool(input.chance(50)) : number()))
            }
        }
    }

    /// `configureFailPoint: "failCommand"` with a mode and data. Blocks stay short (the harness
    /// refuses to run blocks over a second: they would stall the fuzzer by design).
    mutating func failPoint(_ body: inout BSONDocument) {
        body.append("configureFailPoint", wild(.string(input.pick(["failCommand", "failCommand", "x", ""]))))
        body.append("mode", wild(input.pick([
            "alwaysOn", "off", .document(["times": .int32(1)]), .document(["times": .int32(2)]), .document(["skip": .int32(1)]),
            .document(["activationProbability": .double(0.5)]), .document(["times": number()]), "sometimes",
        ])))
        guard input.chance(85) else { return }
        var data = BSONDocument()
        let names: [BSONValue] = ["find", "insert", "ping", "hello", "saslStart", "update", "getMore", "aggregate", "delete"]
        data.append("failCommands", wild(.array((0..<(1 + smallCount(2))).map { _ in input.pick(names) })))
        if input.chance(40) { data.append("errorCode", wild(input.pick([.int32(2), .int32(91), .int32(11600), .int32(10107), number()]))) }
        if input.chance(25) { data.append("closeConnection", wild(.bool(input.chance(50)))) }
        if input.chance(25) {
            data.append("blockConnection", wild(.bool(input.chance(70))))
            data.append("blockTimeMS", input.pick([.int32(0), .int32(1), .int32(20), .int32(-1), .double(1.5), "x"]))
        }
        if input.chance(20) { data.append("errorLabels", wild(.array(["RetryableWriteError", .int32(1)]))) }
        if input.chance(15) { data.append("writeConcernError", wild(.document(["code": .int32(91), "errmsg": "x"]))) }
        if input.chance(15) { data.append(input.pick(["appName", "namespace", "threadName", "failAllCommands"]), value(depth: 1)) }
        body.append("data", wild(.document(data)))
    }

    /// Role grants: names, `{role, db}` documents, and malformed ones.
    mutating func roles() -> [BSONValue] {
        (0..<smallCount(3)).map { _ in
            input.chance(50) ? .string(input.pick(Self.roleNames))
                : .document(["role": wild(.string(input.pick(Self.roleNames))), "db": wild(.string(input.pick(Self.databases)))])
        }
    }

    /// A SCRAM message as a driver sends it (client-first or client-final, for the stored user or
    /// another), or raw bytes, or a string instead of binary data.
    mutating func saslPayload(first: Bool) -> BSONValue {
        let text: String
        switch input.choose(4) {
        case 0:
            let user = input.pick([Self.rootUser, "u", "a=2Cb", "=ZZ", ""])
            text = first ? "n,,n=\(user),r=\(nonce())" : "c=biws,r=\(nonce())\(nonce()),p=\(String(repeating: "A", count: 43))="
        case 1:
            text = input.pick(["", "n,,", "y,,n=x,r=y", "p=tls-unique,,n=u,r=x", "c=biws", "v=x", "n,a=u,n=u,r=x", ",,,,"])
        case 2:
            return .string(input.pick(["n,,n=u,r=abc", ""]))
        default:
            return .binary(BSONBinary(data: input.raw(smallCount(40))))
        }
        return .binary(BSONBinary(data: Array(text.utf8)))
    }

    /// A printable nonce made of the input's bytes.
    mutating func nonce() -> String {
        String(input.raw(smallCount(24)).map { Character(Unicode.Scalar(0x21 + $0 % 90)) })
    }
}
