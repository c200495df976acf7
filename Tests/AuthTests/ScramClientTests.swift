import Auth
import Foundation
import Testing

/// The SCRAM client (the operator CLI's `--uri` mode) replayed against the published exchanges and
/// against the server value: the same messages, and a wrong password or server is caught.
struct ScramClientTests {
    /// The client nonce of a vector: `r=` of its client-first.
    static func nonce(_ v: ScramServerTests.Vector) -> String {
        String(v.clientFirst.split(separator: ",").last?.dropFirst(2) ?? "")
    }

    @Test(arguments: [("rfc7677", ScramServerTests.rfc7677), ("mongo", ScramServerTests.mongoSpec)])
    func replaysThePublishedExchange(_ name: String, _ v: ScramServerTests.Vector) throws {
        var client = try ScramClient(v.mechanism, user: "user", password: "pencil", nonce: Self.nonce(v))
        #expect(String(decoding: client.clientFirst, as: UTF8.self) == v.clientFirst, "\(name)")
        let final = try client.finish(serverFirst: Array(v.serverFirst.utf8))
        #expect(String(decoding: final, as: UTF8.self) == v.clientFinal, "\(name)")
        try client.verify(serverFinal: Array(v.serverFinal.utf8))
        #expect(throws: ScramError.self) { try client.verify(serverFinal: Array("v=AAAA".utf8)) }
    }

    @Test(arguments: ScramMechanism.allCases)
    func talksToTheServerAndAWrongPasswordFails(_ mechanism: ScramMechanism) throws {
        let credential = try ScramCredential.make(mechanism, user: "ops,=x", password: "s3cret Ⅸ")
        for (password, accepted) in [("s3cret Ⅸ", true), ("wrong", false)] {
            var client = try ScramClient(mechanism, user: "ops,=x", password: password, nonce: try ScramClient.makeNonce())
            let first = try ScramClientFirst(client.clientFirst)
            #expect(first.user == "ops,=x")
            var server = ScramServer.start(mechanism, credential: credential, clientFirst: first, serverNonce: try ScramServer.makeNonce())
            let final = try client.finish(serverFirst: Array(server.serverFirst.utf8))
            if accepted {
                try client.verify(serverFinal: try server.finish(final))
            } else {
                #expect(throws: ScramError.badProof) { _ = try server.finish(final) }
            }
        }
    }

    @Test func refusesAServerNonceThatDoesNotExtendItsOwn() throws {
        var client = try ScramClient(.sha256, user: "u", password: "p", nonce: "abc")
        #expect(throws: ScramError.self) { _ = try client.finish(serverFirst: Array("r=xyz123,s=QSXCR+Q6sek8bf92,i=4096".utf8)) }
        #expect(throws: ScramError.self) { _ = try client.finish(serverFirst: Array("r=abc123,s=QSXCR+Q6sek8bf92,i=10".utf8)) }
    }
}
