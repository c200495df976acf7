import Foundation

/// Why a SCRAM exchange failed. The command layer answers every one of them with the same
/// 18 AuthenticationFailed, so a client learns nothing about which step or which user was wrong.
public enum ScramError: Error, Sendable, Equatable {
    /// A message that is not SCRAM's syntax (or asks for channel binding, or a different authzid).
    case malformed(String)
    /// The client's nonce prefix or channel binding did not match the first message.
    case mismatch(String)
    /// The proof was wrong: bad password.
    case badProof
    /// A message arrived in a state that does not expect it.
    case unexpected
}

/// The client's first SCRAM message, parsed (RFC 5802 §7).
public struct ScramClientFirst: Sendable, Equatable {
    /// `n,,` — the GS2 header, echoed (base64) in the final message's `c=`.
    public var gs2Header: String
    /// The user name, with `=2C`/`=3D` decoded.
    public var user: String
    /// The client nonce.
    public var nonce: String
    /// The message without the GS2 header (part of the AuthMessage).
    public var bare: String

    /// Parses `n,,n=<user>,r=<nonce>`. Channel binding (`p=`) is refused: drivers never use it.
    public init(_ payload: [UInt8]) throws(ScramError) {
        guard let text = String(validating: payload, as: UTF8.self) else { throw .malformed("not UTF-8") }
        let parts = text.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("client-first needs a GS2 header") }
        guard parts[0] == "n" || parts[0] == "y" else { throw .malformed("channel binding is not supported") }
        let bare = String(parts[2])
        let fields = ScramClientFirst.attributes(bare)
        guard fields.count >= 2, fields[0].key == "n", fields[1].key == "r", fields.allSatisfy({ !$0.key.isEmpty }) else {
            throw .malformed("client-first-bare must be n=…,r=…")
        }
        guard let user = ScramClientFirst.decodeName(fields[0].value), !user.isEmpty else {
            throw .malformed("bad user name encoding")
        }
        let authzid = parts[1]
        if !authzid.isEmpty {
            guard authzid.hasPrefix("a="), ScramClientFirst.decodeName(String(authzid.dropFirst(2))) == user else {
                throw .malformed("authorization identity must be the user")
            }
        }
        let nonce = fields[1].value
        guard !nonce.isEmpty, ScramClientFirst.isPrintable(nonce) else { throw .malformed("bad nonce") }
        gs2Header = "\(parts[0]),\(authzid),"
        self.user = user
        self.nonce = nonce
        self.bare = bare
    }

    /// `key=value` pairs of a SCRAM message, in order.
    static func attributes(_ message: String) -> [(key: String, value: String)] {
        message.split(separator: ",", omittingEmptySubsequences: false).map { part in
            guard part.count >= 2, part.dropFirst().first == "=" else { return (key: "", value: String(part)) }
            return (key: String(part.prefix(1)), value: String(part.dropFirst(2)))
        }
    }

    /// RFC 5802's saslname: `=2C` is `,`, `=3D` is `=`, any other `=` is an error.
    static func decodeName(_ name: String) -> String? {
        var out = ""
        var rest = Substring(name)
        while let eq = rest.firstIndex(of: "=") {
            out += rest[..<eq]
            let code = rest[eq...].prefix(3)
            switch code {
            case "=2C": out += ","
            case "=3D": out += "="
            default: return nil
            }
            rest = rest[eq...].dropFirst(3)
        }
        return out + rest
    }

    /// Printable ASCII except `,` (RFC 5802's `printable`).
    static func isPrintable(_ s: String) -> Bool {
        s.utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7E && $0 != 0x2C }
    }
}

/// The server side of one SCRAM conversation, as a value: no I/O, no clock, no randomness of its
/// own (the server nonce is passed in), so tests replay the RFC exchanges byte for byte.
///
/// client-first → ``start(_:credential:clientFirst:serverNonce:)`` → server-first;
/// client-final → ``finish(_:)`` → server-final (`v=<ServerSignature>`); then ``isComplete``.
public struct ScramServer: Sendable, Equatable {
    /// Where the exchange stands.
    public enum Step: Sendable, Equatable {
        /// server-first was sent; the client's proof is next.
        case awaitingProof
        /// The proof checked out and `v=` was sent.
        case complete
    }

    /// The mechanism.
    public let mechanism: ScramMechanism
    /// The user (from client-first).
    public let user: String
    /// The step.
    public private(set) var step: Step
    private let credential: ScramCredential
    private let gs2Header: String
    private let nonce: String
    private let authMessagePrefix: String

    /// The server-first message this conversation answered with.
    public let serverFirst: String

    /// Starts a conversation for a user whose stored credential is `credential`.
    public static func start(
        _ mechanism: ScramMechanism, credential: ScramCredential, clientFirst: ScramClientFirst, serverNonce: String
    ) -> ScramServer {
        ScramServer(mechanism: mechanism, credential: credential, clientFirst: clientFirst, serverNonce: serverNonce)
    }

    private init(mechanism: ScramMechanism, credential: ScramCredential, clientFirst: ScramClientFirst, serverNonce: String) {
        self.mechanism = mechanism
        self.user = clientFirst.user
        self.credential = credential
        self.gs2Header = clientFirst.gs2Header
        self.nonce = clientFirst.nonce + serverNonce
        let first = "r=\(nonce),s=\(Data(credential.salt).base64EncodedString()),i=\(credential.iterationCount)"
        self.serverFirst = first
        self.authMessagePrefix = "\(clientFirst.bare),\(first),"
        self.step = .awaitingProof
    }

    /// True once the client proved it knows the password.
    public var isComplete: Bool { step == .complete }

    /// Checks the client-final message (`c=…,r=…,p=…`) and returns server-final (`v=…`).
    public mutating func finish(_ payload: [UInt8]) throws(ScramError) -> [UInt8] {
        guard step == .awaitingProof else { throw .unexpected }
        guard let text = String(validating: payload, as: UTF8.self) else { throw .malformed("not UTF-8") }
        let fields = ScramClientFirst.attributes(text)
        guard fields.count >= 3, fields[0].key == "c", fields[1].key == "r", let last = fields.last, last.key == "p" else {
            throw .malformed("client-final must be c=…,r=…,…,p=…")
        }
        guard fields[0].value == Data(gs2Header.utf8).base64EncodedString() else { throw .mismatch("channel binding") }
        guard fields[1].value == nonce else { throw .mismatch("nonce") }
        guard let proof = Data(base64Encoded: last.value).map(Array.init), proof.count == mechanism.hash.length else {
            throw .malformed("bad proof encoding")
        }
        guard let withoutProof = text.range(of: ",p=", options: .backwards).map({ String(text[..<$0.lowerBound]) }) else {
            throw .malformed("no proof")
        }
        let authMessage = Array((authMessagePrefix + withoutProof).utf8)
        let hash = mechanism.hash
        do {
            let clientSignature = try Crypto.hmac(hash, key: credential.storedKey, authMessage)
            var clientKey = proof
            for i in clientKey.indices { clientKey[i] ^= clientSignature[i] }
            guard Crypto.constantTimeEqual(try Crypto.hash(hash, clientKey), credential.storedKey) else { throw ScramError.badProof }
            let serverSignature = try Crypto.hmac(hash, key: credential.serverKey, authMessage)
            step = .complete
            return Array("v=\(Data(serverSignature).base64EncodedString())".utf8)
        } catch let error as ScramError {
            throw error
        } catch {
            throw .badProof
        }
    }

    /// A fresh server nonce: 24 random bytes in base64 (as mongod).
    public static func makeNonce() throws -> String {
        Data(try Crypto.randomBytes(24)).base64EncodedString()
    }
}
