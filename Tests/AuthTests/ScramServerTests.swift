import Auth
import Foundation
import Testing

/// The SCRAM server replayed against the published exchanges: RFC 5802 §5 (SCRAM-SHA-1), RFC 7677
/// §3 (SCRAM-SHA-256) and the MongoDB authentication specification's SCRAM-SHA-1 example (whose
/// password is MongoDB's `hex(md5("user:mongo:pencil"))`).
struct ScramServerTests {
    struct Vector {
        var mechanism: ScramMechanism
        var prepared: [UInt8]
        var salt: String
        var iterations: Int
        var clientFirst: String
        var serverNonce: String
        var serverFirst: String
        var clientFinal: String
        var serverFinal: String
    }

    static let rfc5802 = Vector(
        mechanism: .sha1, prepared: Array("pencil".utf8), salt: "QSXCR+Q6sek8bf92", iterations: 4096,
        clientFirst: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL", serverNonce: "3rfcNHYJY1ZVvWVs7j",
        serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
        clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
        serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")

    static let rfc7677 = Vector(
        mechanism: .sha256, prepared: Array("pencil".utf8), salt: "W22ZaJ0SNY7soEsUEjb6gQ==", iterations: 4096,
        clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO", serverNonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
        serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        clientFinal: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")

    static var mongoSpec: Vector {
        Vector(
            mechanism: .sha1, prepared: (try? ScramMechanism.sha1.preparePassword(user: "user", password: "pencil")) ?? [],
            salt: "rQ9ZY3MntBeuP3E1TDVC4w==", iterations: 10000,
            clientFirst: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL", serverNonce: "Ho+Vgk7qvUOKUwuWLIWg4l/9SraGMHEE",
            serverFirst: "r=fyko+d2lbbFgONRv9qkxdawLHo+Vgk7qvUOKUwuWLIWg4l/9SraGMHEE,s=rQ9ZY3MntBeuP3E1TDVC4w==,i=10000",
            clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawLHo+Vgk7qvUOKUwuWLIWg4l/9SraGMHEE,p=MC2T8BvbmWRckDw8oWl5IVghwCY=",
            serverFinal: "v=UMWeI25JD1yNYZRMpZ4VHvhZ9e0=")
    }

    static func server(_ v: Vector) throws -> ScramServer {
        let salt = try #require(Data(base64Encoded: v.salt))
        let credential = try ScramCredential.derive(v.mechanism.hash, preparedPassword: v.prepared, salt: Array(salt), iterations: v.iterations)
        let first = try ScramClientFirst(Array(v.clientFirst.utf8))
        return ScramServer.start(v.mechanism, credential: credential, clientFirst: first, serverNonce: v.serverNonce)
    }

    @Test(arguments: ["rfc5802", "rfc7677", "mongo"])
    func publishedExchange(_ name: String) throws {
        let v = name == "rfc5802" ? Self.rfc5802 : name == "rfc7677" ? Self.rfc7677 : Self.mongoSpec
        var server = try Self.server(v)
        #expect(server.serverFirst == v.serverFirst)
        #expect(!server.isComplete)
        let final = try server.finish(Array(v.clientFinal.utf8))
        #expect(String(decoding: final, as: UTF8.self) == v.serverFinal)
        #expect(server.isComplete)
        // A second client-final is out of order.
        #expect(throws: ScramError.unexpected) { try server.finish(Array(v.clientFinal.utf8)) }
    }

    @Test func mongoSHA1PasswordDigest() throws {
        #expect(try Crypto.md5Hex(Array("user:mongo:pencil".utf8)) == "1c33006ec1ffd90f9cadcbcc0e118200")
    }

    @Test func wrongProofIsRefused() throws {
        var server = try Self.server(Self.rfc7677)
        let bad = Self.rfc7677.clientFinal.replacingOccurrences(of: "p=dHzb", with: "p=dHza")
        #expect(throws: ScramError.badProof) { try server.finish(Array(bad.utf8)) }
        #expect(!server.isComplete)
    }

    @Test func wrongPasswordIsRefused() throws {
        let v = Self.rfc7677
        let credential = try ScramCredential.derive(.sha256, preparedPassword: Array("pencil2".utf8),
                                                    salt: Array(try #require(Data(base64Encoded: v.salt))), iterations: 4096)
        var server = ScramServer.start(.sha256, credential: credential, clientFirst: try ScramClientFirst(Array(v.clientFirst.utf8)),
                                       serverNonce: v.serverNonce)
        #expect(throws: ScramError.badProof) { try server.finish(Array(v.clientFinal.utf8)) }
    }

    @Test func nonceAndChannelBindingMustMatch() throws {
        var server = try Self.server(Self.rfc7677)
        let otherNonce = Self.rfc7677.clientFinal.replacingOccurrences(of: "hNlF$k0", with: "hNlF$k1")
        #expect(throws: ScramError.mismatch("nonce")) { try server.finish(Array(otherNonce.utf8)) }
        let otherBinding = Self.rfc7677.clientFinal.replacingOccurrences(of: "c=biws", with: "c=eSws")
        #expect(throws: ScramError.mismatch("channel binding")) { try server.finish(Array(otherBinding.utf8)) }
    }

    @Test(arguments: ["", "n,,", "p=tls-unique,,n=user,r=abc", "n,,r=abc", "n,,n=user", "n,,n=us=er,r=abc",
                      "n,a=other,n=user,r=abc", "n,,n=user,r=a,b", "\u{FF}"])
    func malformedClientFirst(_ text: String) {
        #expect(throws: ScramError.self) { try ScramClientFirst(Array(text.utf8)) }
    }

    @Test func clientFirstDecodesNames() throws {
        let first = try ScramClientFirst(Array("n,,n=a=2Cb=3Dc,r=xyz".utf8))
        #expect(first.user == "a,b=c")
        #expect(first.nonce == "xyz")
        #expect(first.bare == "n=a=2Cb=3Dc,r=xyz")
        #expect(first.gs2Header == "n,,")
    }

    @Test func malformedClientFinal() throws {
        for text in ["", "c=biws", "c=biws,r=x", "p=abc", "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=!!"] {
            var server = try Self.server(Self.rfc7677)
            #expect(throws: ScramError.self) { try server.finish(Array(text.utf8)) }
        }
    }

    @Test func freshCredentialsUseMongodDefaults() throws {
        let sha256 = try ScramCredential.make(.sha256, user: "ann", password: "secret")
        #expect(sha256.iterationCount == 15000)
        #expect(sha256.salt.count == 28)
        #expect(sha256.storedKey.count == 32)
        let sha1 = try ScramCredential.make(.sha1, user: "ann", password: "secret")
        #expect(sha1.iterationCount == 10000)
        #expect(sha1.salt.count == 16)
        #expect(sha1.serverKey.count == 20)
        #expect(ScramCredential(document: sha256.document, hash: .sha256) == sha256)
        #expect(ScramCredential(document: sha256.document, hash: .sha1) == nil)
    }
}
