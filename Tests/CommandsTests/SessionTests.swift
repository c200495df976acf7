import BSON
import Testing

@testable import Commands

/// The per-connection session as a pure state machine: no sockets, no server.
@Suite struct SessionTests {
    static let info = ConnectionInfo(id: 3, remoteAddress: "127.0.0.1:4000", localAddress: "127.0.0.1:27017")
    static let client: BSONValue = .document([
        "application": .document(["name": "uploader"]),
        "driver": .document(["name": "PyMongo", "version": "4.10.1"]),
        "os": .document(["type": "Linux", "name": "Linux"]),
        "platform": "CPython 3.11",
    ])

    @Test func firstHelloRecordsMetadataAndEstablishes() throws {
        var session = ConnectionSession(connection: Self.info)
        #expect(session.phase == .awaitingHandshake)
        session.apply(try session.hello(client: Self.client))
        #expect(session.phase == .established)
        #expect(session.applicationName == "uploader")
        #expect(session.clientMetadata?.driverName == "PyMongo")
        #expect(session.clientMetadata?.driverVersion == "4.10.1")
        #expect(session.clientMetadata?.osType == "Linux")
        #expect(session.clientMetadata?.document["platform"] == .string("CPython 3.11"))
        #expect(session.handshakes == 1)
        #expect(session.compressors.isEmpty)
        #expect(session.loadBalanced == false)
        #expect(session.authentication == .unauthenticated)
    }

    @Test func laterHelloWithClientIs186AndKeepsTheFirst() throws {
        var session = ConnectionSession(connection: Self.info)
        session.apply(try session.hello(client: Self.client))
        let other: BSONValue = .document([
            "driver": .document(["name": "x", "version": "1"]), "os": .document(["type": "Darwin"]),
        ])
        let error = #expect(throws: CommandError.self) { try session.hello(client: other) }
        #expect(error?.code == 186)
        #expect(error?.codeName == "ClientMetadataCannotBeMutated")
        #expect(error?.message == "The client metadata document may only be sent in the first hello")
        // Heartbeats without `client` are fine and change nothing but the count.
        session.apply(try session.hello(client: nil))
        #expect(session.applicationName == "uploader")
        #expect(session.handshakes == 2)
    }

    @Test func firstHelloWithoutClientFinalizesTheMetadata() throws {
        var session = ConnectionSession(connection: Self.info)
        session.apply(try session.hello(client: nil))
        #expect(session.clientMetadata == nil)
        #expect(throws: CommandError.self) { try session.hello(client: Self.client) }
    }

    @Test func applyingAStaleHandshakeLeavesMetadataAlone() throws {
        var session = ConnectionSession(connection: Self.info)
        let first = try session.hello(client: Self.client)
        session.apply(first)
        session.apply(first)
        #expect(session.applicationName == "uploader")
        #expect(session.handshakes == 2)
    }

    @Test(arguments: [
        (BSONValue.int32(1), Int32(14)),
        (.document(["os": .document(["type": "Linux"])]), 183),
        (.document(["driver": .document(["name": "d", "version": "1"])]), 183),
        (.document(["driver": .document(["name": "d"]), "os": .document(["type": "Linux"])]), 183),
        (.document(["driver": .document(["name": .int32(1), "version": "1"]), "os": .document(["type": "Linux"])]), 14),
        (.document(["driver": "PyMongo", "os": .document(["type": "Linux"])]), 14),
        (.document([
            "application": .document(["name": .string(String(repeating: "a", count: 129))]),
            "driver": .document(["name": "d", "version": "1"]), "os": .document(["type": "Linux"]),
        ]), 184),
        (.document([
            "driver": .document(["name": "d", "version": "1"]), "os": .document(["type": "Linux"]),
            "padding": .string(String(repeating: "p", count: 1100)),
        ]), 185),
    ])
    func badMetadataIsRefusedAsMongod(value: BSONValue, code: Int32) {
        let session = ConnectionSession(connection: Self.info)
        let error = #expect(throws: CommandError.self) { try session.hello(client: value) }
        #expect(error?.code == code)
    }

    @Test func applicationNameOf128BytesIsAccepted() throws {
        let value: BSONValue = .document([
            "application": .document(["name": .string(String(repeating: "a", count: 128))]),
            "driver": .document(["name": "d", "version": "1"]), "os": .document(["type": "Linux"]),
        ])
        #expect(try ClientMetadata(value).applicationName?.utf8.count == 128)
    }

    @Test func authenticationChangesAreApplied() {
        var session = ConnectionSession(connection: Self.info)
        let user = UserName(user: "ann", db: "admin")
        session.apply(.authentication(.conversation(SASLConversation(id: 1, mechanism: "SCRAM-SHA-256", user: user))))
        #expect(session.authentication.users.isEmpty)
        session.apply(.authentication(.authenticated([user])))
        #expect(session.authentication.users == [user])
        session.apply(.authentication(.unauthenticated))
        #expect(session.authentication == .unauthenticated)
    }

    @Test func helloThroughTheDispatcherReturnsTheChangeAndTheContextAppliesIt() async throws {
        var context = try await makeTestContext()
        let dispatcher = CommandDispatcher()
        let request = try CommandRequest(body: ["hello": 1, "client": Self.client], database: "admin")
        let outcome = await dispatcher.execute(request, context: context)
        #expect(outcome.reply["ok"] == .double(1))
        #expect(outcome.sessionChanges.count == 1)
        #expect(context.session.clientMetadata == nil, "the command must not change the session itself")
        context.apply(outcome.sessionChanges)
        #expect(context.session.applicationName == "uploader")
        #expect(context.logger[metadataKey: "appName"] == "uploader")
        let again = await dispatcher.execute(request, context: context)
        #expect(again.reply["code"] == .int32(186))
        #expect(again.sessionChanges.isEmpty)
    }

    @Test func connectionStatusReadsTheSession() async throws {
        var context = try await makeTestContext()
        context.apply([.authentication(.authenticated([UserName(user: "ann", db: "media")]))])
        let reply = try await run(["connectionStatus": 1], context: context)
        #expect(reply.value(atPath: "authInfo.authenticatedUsers") == .array([.document(["user": "ann", "db": "media"])]))
    }
}
