import BSON

/// A user as `admin.system.users` holds it (mongod's shape): `_id: "<db>.<user>"`, `userId`
/// (UUID), `user`, `db`, `credentials` per SCRAM mechanism, `roles: [{role, db}]`. Never a password.
public struct StoredUser: Sendable, Equatable {
    /// The user name.
    public var user: String
    /// The database that holds the credentials (the authentication database).
    public var db: String
    /// A random UUID, fixed at creation.
    public var userId: [UInt8]
    /// Credentials by mechanism.
    public var credentials: [ScramMechanism: ScramCredential]
    /// The roles granted.
    public var roles: [RoleGrant]
    /// Free-form `customData`, if any.
    public var customData: BSONDocument?

    /// `"<db>.<user>"`.
    public var id: String { StoredUser.id(user: user, db: db) }

    /// The `_id` of a user.
    public static func id(user: String, db: String) -> String { "\(db).\(user)" }

    /// Creates a user record.
    public init(user: String, db: String, userId: [UInt8], credentials: [ScramMechanism: ScramCredential],
                roles: [RoleGrant], customData: BSONDocument? = nil) {
        self.user = user
        self.db = db
        self.userId = userId
        self.credentials = credentials
        self.roles = roles
        self.customData = customData
    }

    /// The mechanisms with a credential, in mongod's order (SHA-1 first).
    public var mechanisms: [ScramMechanism] { ScramMechanism.allCases.filter { credentials[$0] != nil } }

    /// The stored document.
    public var document: BSONDocument {
        var doc: BSONDocument = ["_id": .string(id)]
        doc.append("userId", .binary(BSONBinary(subtype: 4, data: userId)))
        doc.append("user", .string(user))
        doc.append("db", .string(db))
        var creds = BSONDocument()
        for mechanism in mechanisms {
            if let credential = credentials[mechanism] { creds.append(mechanism.rawValue, .document(credential.document)) }
        }
        doc.append("credentials", .document(creds))
        if let customData { doc.append("customData", .document(customData)) }
        doc.append("roles", StoredUser.rolesValue(roles))
        return doc
    }

    /// `[{role, db}]`.
    public static func rolesValue(_ roles: [RoleGrant]) -> BSONValue {
        .array(roles.map { .document(["role": .string($0.role), "db": .string($0.db)]) })
    }

    /// Reads a stored document; nil when it is not a well-formed user.
    public init?(document: BSONDocument) {
        guard case .string(let user)? = document["user"], case .string(let db)? = document["db"] else { return nil }
        var credentials: [ScramMechanism: ScramCredential] = [:]
        if case .document(let creds)? = document["credentials"] {
            for mechanism in ScramMechanism.allCases {
                if case .document(let c)? = creds[mechanism.rawValue],
                   let credential = ScramCredential(document: c, hash: mechanism.hash) {
                    credentials[mechanism] = credential
                }
            }
        }
        var roles: [RoleGrant] = []
        if case .array(let values)? = document["roles"] {
            for value in values {
                if case .document(let r) = value, case .string(let role)? = r["role"], case .string(let rdb)? = r["db"] {
                    roles.append(RoleGrant(role: role, db: rdb))
                }
            }
        }
        var userId: [UInt8] = []
        if case .binary(let b)? = document["userId"] { userId = b.data }
        var custom: BSONDocument?
        if case .document(let d)? = document["customData"] { custom = d }
        self.init(user: user, db: db, userId: userId, credentials: credentials, roles: roles, customData: custom)
    }

    /// A random version-4 UUID.
    public static func makeUUID() throws -> [UInt8] {
        var bytes = try Crypto.randomBytes(16)
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return bytes
    }
}
