import Foundation

/// The client side of one SCRAM conversation (RFC 5802 / 7677), as a value like ``ScramServer``:
/// no I/O, the client nonce passed in, so the RFC exchanges replay byte for byte. The operator
/// CLI's `--uri` mode authenticates with it.
///
/// ``clientFirst`` → (server-first) → ``finish(serverFirst:)`` → client-final → (server-final) →
/// ``verify(serverFinal:)``, which checks the server's signature: a server that does not know the
/// password cannot pass.
public struct ScramClient: Sendable {
    /// The mechanism.
    public let mechanism: ScramMechanism
    /// The user name (not SASLprep'd, as MongoDB's drivers send it).
    public let user: String
    private let preparedPassword: [UInt8]
    private let nonce: String
    private var expectedServerSignature: [UInt8]?

    /// Starts a conversation; `nonce` is the client nonce (``makeNonce()`` in real use).
    public init(_ mechanism: ScramMechanism, user: String, password: String, nonce: String) throws {
        self.mechanism = mechanism
        self.user = user
        self.preparedPassword = try mechanism.preparePassword(user: user, password: password)
        self.nonce = nonce
    }

    /// `n=<user>,r=<nonce>` with `,` and `=` escaped.
    private var bare: String {
        let name = user.replacingOccurrences(of: "=", with: "=3D").replacingOccurrences(of: ",", with: "=2C")
        return "n=\(name),r=\(nonce)"
    }

    /// The client-first message (`n,,n=…,r=…`).
    public var clientFirst: [UInt8] { Array("n,,\(bare)".utf8) }

    /// Answers server-first (`r=…,s=…,i=…`) with client-final (`c=biws,r=…,p=<proof>`).
    public mutating func finish(serverFirst payload: [UInt8]) throws -> [UInt8] {
        guard let text = String(validating: payload, as: UTF8.self) else { throw ScramError.malformed("server-first is not UTF-8") }
        let fields = ScramClientFirst.attributes(text)
        guard fields.count >= 3, fields[0].key == "r", fields[1].key == "s", fields[2].key == "i" else {
            throw ScramError.malformed("server-first must be r=…,s=…,i=…")
        }
        let combined = fields[0].value
        guard combined.hasPrefix(nonce), combined.count > nonce.count else { throw ScramError.mismatch("nonce") }
        guard let salt = Data(base64Encoded: fields[1].value), let iterations = Int(fields[2].value) else {
            throw ScramError.malformed("bad salt or iteration count")
        }
        // Drivers refuse fewer rounds than this (the SCRAM specification's minimum).
        guard iterations >= 4096, iterations <= 10_000_000 else { throw ScramError.malformed("iteration count \(iterations)") }
        let hash = mechanism.hash
        let withoutProof = "c=biws,r=\(combined)"
        let authMessage = Array("\(bare),\(text),\(withoutProof)".utf8)
        let salted = try Crypto.pbkdf2(hash, password: preparedPassword, salt: Array(salt), iterations: iterations)
        let clientKey = try Crypto.hmac(hash, key: salted, Array("Client Key".utf8))
        let storedKey = try Crypto.hash(hash, clientKey)
        let clientSignature = try Crypto.hmac(hash, key: storedKey, authMessage)
        var proof = clientKey
        for i in proof.indices { proof[i] ^= clientSignature[i] }
        let serverKey = try Crypto.hmac(hash, key: salted, Array("Server Key".utf8))
        expectedServerSignature = try Crypto.hmac(hash, key: serverKey, authMessage)
        return Array("\(withoutProof),p=\(Data(proof).base64EncodedString())".utf8)
    }

    /// Checks server-final (`v=<ServerSignature>`); throws when the server did not prove it knows
    /// the password (or reported an error `e=…`).
    public func verify(serverFinal payload: [UInt8]) throws {
        guard let expected = expectedServerSignature else { throw ScramError.unexpected }
        guard let text = String(validating: payload, as: UTF8.self) else { throw ScramError.malformed("server-final is not UTF-8") }
        let fields = ScramClientFirst.attributes(text)
        guard let first = fields.first, first.key == "v", let signature = Data(base64Encoded: first.value),
              Crypto.constantTimeEqual(Array(signature), expected) else {
            throw ScramError.mismatch("server signature")
        }
    }

    /// A fresh client nonce: 24 random bytes in base64.
    public static func makeNonce() throws -> String {
        Data(try Crypto.randomBytes(24)).base64EncodedString()
    }
}
