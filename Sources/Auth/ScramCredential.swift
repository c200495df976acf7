import BSON
import Foundation

/// The two SCRAM mechanisms MongoDB speaks.
public enum ScramMechanism: String, Sendable, Hashable, CaseIterable {
    /// SCRAM-SHA-1 (RFC 5802) over `hex(md5(user:mongo:password))`.
    case sha1 = "SCRAM-SHA-1"
    /// SCRAM-SHA-256 (RFC 7677) over the SASLprep'd password.
    case sha256 = "SCRAM-SHA-256"

    /// The hash function.
    public var hash: HashFunction { self == .sha1 ? .sha1 : .sha256 }
    /// mongod's default iteration counts (`scramIterationCount`, `scramSHA256IterationCount`).
    public var defaultIterations: Int { self == .sha1 ? 10_000 : 15_000 }
    /// mongod's salt lengths: 16 bytes for SHA-1, 28 for SHA-256.
    public var saltLength: Int { self == .sha1 ? 16 : 28 }

    /// The password as PBKDF2 takes it: MongoDB's MD5 digest for SHA-1 (no SASLprep), the
    /// SASLprep'd UTF-8 for SHA-256 (the user name is never prepped).
    public func preparePassword(user: String, password: String) throws -> [UInt8] {
        switch self {
        case .sha1:
            return Array(try Crypto.md5Hex(Array("\(user):mongo:\(password)".utf8)).utf8)
        case .sha256:
            return Array(try SASLprep.prepare(password).utf8)
        }
    }
}

/// What the server keeps for one user and mechanism: never the password, only what SCRAM needs to
/// check a proof and sign its answer (RFC 5802 §3): salt, iteration count, StoredKey, ServerKey.
public struct ScramCredential: Sendable, Hashable {
    /// PBKDF2 rounds.
    public var iterationCount: Int
    /// The salt.
    public var salt: [UInt8]
    /// H(ClientKey).
    public var storedKey: [UInt8]
    /// HMAC(SaltedPassword, "Server Key").
    public var serverKey: [UInt8]

    /// Creates a credential from its parts.
    public init(iterationCount: Int, salt: [UInt8], storedKey: [UInt8], serverKey: [UInt8]) {
        self.iterationCount = iterationCount
        self.salt = salt
        self.storedKey = storedKey
        self.serverKey = serverKey
    }

    /// Derives a credential from an already prepared password (see
    /// ``ScramMechanism/preparePassword(user:password:)``; the RFC test vectors use the plain one).
    public static func derive(
        _ hash: HashFunction, preparedPassword: [UInt8], salt: [UInt8], iterations: Int
    ) throws -> ScramCredential {
        let salted = try Crypto.pbkdf2(hash, password: preparedPassword, salt: salt, iterations: iterations)
        let clientKey = try Crypto.hmac(hash, key: salted, Array("Client Key".utf8))
        let storedKey = try Crypto.hash(hash, clientKey)
        let serverKey = try Crypto.hmac(hash, key: salted, Array("Server Key".utf8))
        return ScramCredential(iterationCount: iterations, salt: salt, storedKey: storedKey, serverKey: serverKey)
    }

    /// A new credential for `user`/`password` with a fresh random salt and mongod's iteration count.
    public static func make(_ mechanism: ScramMechanism, user: String, password: String) throws -> ScramCredential {
        let prepared = try mechanism.preparePassword(user: user, password: password)
        return try derive(mechanism.hash, preparedPassword: prepared, salt: try Crypto.randomBytes(mechanism.saltLength),
                          iterations: mechanism.defaultIterations)
    }

    /// `{iterationCount, salt, storedKey, serverKey}` with base64 strings, as mongod stores it.
    public var document: BSONDocument {
        [
            "iterationCount": .int32(Int32(clamping: iterationCount)),
            "salt": .string(Data(salt).base64EncodedString()),
            "storedKey": .string(Data(storedKey).base64EncodedString()),
            "serverKey": .string(Data(serverKey).base64EncodedString()),
        ]
    }

    /// Reads the stored form; nil when a field is missing or malformed.
    public init?(document: BSONDocument, hash: HashFunction) {
        guard let iterations = document["iterationCount"]?.intValue, iterations > 0,
              case .string(let salt)? = document["salt"], let saltBytes = Data(base64Encoded: salt),
              case .string(let stored)? = document["storedKey"], let storedBytes = Data(base64Encoded: stored),
              case .string(let server)? = document["serverKey"], let serverBytes = Data(base64Encoded: server),
              storedBytes.count == hash.length, serverBytes.count == hash.length
        else { return nil }
        self.init(iterationCount: iterations, salt: Array(saltBytes), storedKey: Array(storedBytes),
                  serverKey: Array(serverBytes))
    }
}
