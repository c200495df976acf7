import Auth
import BSON
import Testing

/// Built-in roles as privileges: which action classes on which database each grant gives.
struct RoleTests {
    @Test func readIsReadOnlyOnItsDatabase() {
        let p = Privileges([RoleGrant(role: "read", db: "media")])
        #expect(p.allows(Requirement([.read], on: .database("media"))))
        #expect(!p.allows(Requirement([.write], on: .database("media"))))
        #expect(!p.allows(Requirement([.read], on: .database("other"))))
        #expect(!p.allows(Requirement([.clusterMonitor], on: .cluster)))
        #expect(p.touches("media") && !p.touches("other"))
    }

    @Test func readWriteAndDbOwner() {
        let rw = Privileges([RoleGrant(role: "readWrite", db: "media")])
        #expect(rw.allows(Requirement([.write], on: .database("media"))))
        #expect(!rw.allows(Requirement([.dbAdmin], on: .database("media"))))
        #expect(!rw.allows(Requirement([.userAdmin], on: .database("media"))))
        let owner = Privileges([RoleGrant(role: "dbOwner", db: "media")])
        for action in [ActionClass.read, .write, .dbAdmin, .userAdmin] {
            #expect(owner.allows(Requirement([action], on: .database("media"))))
            #expect(!owner.allows(Requirement([action], on: .database("admin"))))
        }
    }

    @Test func anyDatabaseRolesExistOnlyOnAdmin() {
        #expect(BuiltinRole.readAnyDatabase.exists(on: "admin"))
        #expect(!BuiltinRole.readAnyDatabase.exists(on: "media"))
        #expect(!BuiltinRole.root.exists(on: "media"))
        // A server-wide role granted on another database grants nothing.
        let wrong = Privileges([RoleGrant(role: "readAnyDatabase", db: "media")])
        #expect(!wrong.allows(Requirement([.read], on: .database("media"))))
        let right = Privileges([RoleGrant(role: "readAnyDatabase", db: "admin")])
        #expect(right.allows(Requirement([.read], on: .database("anything"))))
        #expect(!right.allows(Requirement([.write], on: .database("anything"))))
    }

    @Test func clusterRoles() {
        let monitor = Privileges([RoleGrant(role: "clusterMonitor", db: "admin")])
        #expect(monitor.allows(Requirement([.clusterMonitor], on: .cluster)))
        #expect(!monitor.allows(Requirement([.clusterAdmin], on: .cluster)))
        #expect(!monitor.allows(Requirement([.read], on: .database("media"))))
        let root = Privileges([RoleGrant(role: "root", db: "admin")])
        for action in ActionClass.allCases {
            #expect(root.allows(Requirement([action], on: .cluster)) || action != .clusterAdmin)
            #expect(root.allows(Requirement([action], on: .database("x"))))
        }
        #expect(root.allows(Requirement([.userAdmin], on: .anyDatabase)))
        let userAdmin = Privileges([RoleGrant(role: "userAdmin", db: "media")])
        #expect(!userAdmin.allows(Requirement([.userAdmin], on: .anyDatabase)))
    }

    @Test func unknownRolesGrantNothing() {
        let p = Privileges([RoleGrant(role: "superuser", db: "admin")])
        #expect(p == Privileges([]))
    }

    @Test func storedUserRoundTrip() throws {
        let user = StoredUser(
            user: "ann", db: "media", userId: try StoredUser.makeUUID(),
            credentials: [.sha256: try ScramCredential.make(.sha256, user: "ann", password: "pw")],
            roles: [RoleGrant(role: "read", db: "media")])
        let doc = user.document
        #expect(doc["_id"] == .string("media.ann"))
        #expect(doc.keys == ["_id", "userId", "user", "db", "credentials", "roles"])
        #expect(StoredUser(document: doc) == user)
        #expect(user.mechanisms == [.sha256])
        // Nothing in the stored form is the password.
        #expect(!doc.relaxedExtendedJSON.contains("\"pw\""))
    }
}
