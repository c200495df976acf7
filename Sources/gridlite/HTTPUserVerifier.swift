import Auth
import Commands
import Foundation
import HTTPGateway
import Storage
import Synchronization

/// HTTP Basic credentials for the gateway under `--auth`, checked against the same users and roles
/// as SCRAM on the wire. The user name is `user` (authentication database `admin`) or `user@db`.
/// The password is checked by deriving the SCRAM salted password from the stored salt and
/// iteration count and comparing the StoredKey (SCRAM-SHA-256 when the user has it, else
/// SCRAM-SHA-1); a successful check is remembered for a few minutes (keyed by a hash of the user,
/// the password and the stored key, so a password change invalidates it) so that not every range
/// request of a video pays PBKDF2.
final class HTTPUserVerifier: HTTPCredentialVerifier {
    let auth: ServerAuth
    let storage: any StorageEngine
    private let verified = Mutex<[String: ContinuousClock.Instant]>([:])
    /// How long a verified password is remembered.
    static let rememberFor = Duration.seconds(300)
    /// Most remembered passwords (the oldest are forgotten first when full: all of them).
    static let maxRemembered = 1024

    init(auth: ServerAuth, storage: any StorageEngine) {
        self.auth = auth
        self.storage = storage
    }

    /// A wrong user or password counts as a failed login of `client` in the server's
    /// ``AuthFailureThrottle`` (shared with SCRAM on the wire): after its free failures, each further
    /// failure's 401 waits longer, so HTTP Basic is no faster a way to guess passwords than the wire.
    func authorize(username: String, password: String, access: HTTPAccess, client: String) async -> HTTPAuthorization {
        let (name, db): (String, String) = {
            if let at = username.lastIndex(of: "@") {
                return (String(username[..<at]), String(username[username.index(after: at)...]))
            }
            return (username, "admin")
        }()
        guard let user = try? await auth.users.user(name, db: db, storage: storage),
              (try? check(password, for: user)) == true
        else {
            let (delay, _) = auth.throttle.recordFailure(client)
            if delay > .zero { try? await Task.sleep(for: delay) }
            return .unauthenticated
        }
        auth.throttle.recordSuccess(client)
        let privileges = Privileges(user.roles)
        switch access {
        case .server:
            return .allowed
        case .read(let database):
            return privileges.allows(Requirement([.read], on: .database(database))) ? .allowed : .forbidden
        case .write(let database):
            return privileges.allows(Requirement([.write], on: .database(database))) ? .allowed : .forbidden
        }
    }

    /// True when `password` is the user's.
    func check(_ password: String, for user: StoredUser) throws -> Bool {
        guard let mechanism = [ScramMechanism.sha256, .sha1].first(where: { user.credentials[$0] != nil }),
              let credential = user.credentials[mechanism] else { return false }
        let key = Crypto.hex(try Crypto.hash(.sha256, Array("\(user.id)\u{0}\(password)\u{0}".utf8) + credential.storedKey))
        let now = ContinuousClock.now
        if let until = verified.withLock({ $0[key] }), until > now { return true }
        let derived = try ScramCredential.derive(
            mechanism.hash, preparedPassword: try mechanism.preparePassword(user: user.user, password: password),
            salt: credential.salt, iterations: credential.iterationCount)
        guard Crypto.constantTimeEqual(derived.storedKey, credential.storedKey) else { return false }
        verified.withLock { entries in
            if entries.count >= HTTPUserVerifier.maxRemembered { entries.removeAll(keepingCapacity: true) }
            entries[key] = now + HTTPUserVerifier.rememberFor
        }
        return true
    }
}
