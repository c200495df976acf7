import BSON
import Testing

/// The server with real sockets: clients that vanish mid-command, shutdown while a large reply is
/// on its way, and one connection's failures never reaching another's state.
@Suite(.serialized) struct ConnectionLifecycleTests {
    static let db = "servertests"

    /// Waits (bounded: 10 s) until `condition` holds; false if it never did.
    func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<1000 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    static func docs(_ range: Range<Int>, payload: Int = 0) -> [BSONDocument] {
        range.map { i in
            var d: BSONDocument = ["_id": .int32(Int32(i)), "n": .int32(Int32(i))]
            if payload > 0 { d.appendBinary("data", subtype: 0, payload: [UInt8](repeating: UInt8(i & 0xFF), count: payload)) }
            return d
        }
    }

    func cursorId(_ reply: BSONDocument?) -> Int64? {
        if case .int64(let id)? = reply?.value(atPath: "cursor.id") { return id }
        return nil
    }

    @Test func clientClosingMidCommandFreesOnlyItsCursorsAndItsWriteCompletes() async throws {
        let server = try await TestServer.start()
        let keeper = try await server.connect()
        _ = try await keeper.command(["insert": "c"], db: Self.db, sequences: [("documents", Self.docs(0..<10))])
        let mine = cursorId(try await keeper.command(["find": "c", "batchSize": 2], db: Self.db))
        #expect(mine != nil && mine != 0)

        // A client opens a cursor, sends an insert and vanishes without reading the reply.
        let leaver = try await server.connect()
        let theirs = cursorId(try await leaver.command(["find": "c", "batchSize": 2], db: Self.db))
        #expect(theirs != nil && theirs != 0)
        try await leaver.send(["insert": "d"], db: Self.db, sequences: [("documents", Self.docs(0..<200, payload: 1000))])
        await leaver.close()

        // A client that closes half way through a frame.
        let halfway = try await server.connect()
        try await halfway.sendRaw(opCode: 2013, [UInt8](repeating: 0, count: 100), declaredLength: 1000)
        await halfway.close()

        #expect(try await eventually { await server.cursors.openCount == 1 })
        #expect(try await eventually { server.environment.connections.count == 1 })
        // The in-flight insert ran to the end although nobody waited for its reply.
        let count = try await keeper.command(["count": "d"], db: Self.db)
        #expect(count?["n"] == .int32(200))
        // The remaining client's cursor is intact and continues where it stopped.
        let next = try await keeper.command(["getMore": .int64(mine ?? 0), "collection": "c", "batchSize": 3], db: Self.db)
        #expect(next?.value(atPath: "cursor.nextBatch.0._id") == .int32(2))
        #expect(next?.value(atPath: "cursor.id") == .int64(mine ?? 0))
        let status = try await keeper.command(["serverStatus": 1])
        #expect(status?.value(atPath: "connections.current") == .int32(1))
        await keeper.close()
        try await server.stop()
    }

    @Test func oneConnectionsErrorsNeverTouchAnothersCursor() async throws {
        let server = try await TestServer.start()
        let owner = try await server.connect()
        _ = try await owner.command(["insert": "e"], db: Self.db, sequences: [("documents", Self.docs(0..<6))])
        let first = try await owner.command(["find": "e", "batchSize": 1, "sort": .document(["_id": 1])], db: Self.db)
        let id = cursorId(first) ?? 0
        #expect(id != 0)

        let other = try await server.connect()
        // Wrong namespace for the cursor, an unknown command, a bad killCursors, a failing write.
        let wrongNs = try await other.command(["getMore": .int64(id), "collection": "other"], db: Self.db)
        #expect(wrongNs?["code"] == .int32(43))
        #expect(try await other.command(["frobnicate": 1])?["code"] == .int32(59))
        let kill = try await other.command(["killCursors": "e", "cursors": .array([.int64(id &+ 1)])], db: Self.db)
        #expect(kill?["cursorsNotFound"] == .array([.int64(id &+ 1)]))
        let dup = try await other.command(["insert": "e"], db: Self.db, sequences: [("documents", Self.docs(0..<1))])
        #expect(dup?.value(atPath: "writeErrors.0.code") == .int32(11000))
        // Then a protocol error closes that connection (and frees its cursors, not the owner's).
        try await other.sendRaw(opCode: 2013, [0, 0, 0, 0, 0, 9, 0, 0, 0, 0])
        #expect(try await other.readUntilClosed() == 0)
        #expect(try await eventually { server.environment.connections.count == 1 })

        let next = try await owner.command(["getMore": .int64(id), "collection": "e", "batchSize": 2], db: Self.db)
        #expect(next?.value(atPath: "cursor.nextBatch") == .array([
            .document(["_id": .int32(1), "n": .int32(1)]), .document(["_id": .int32(2), "n": .int32(2)]),
        ]))
        await owner.close()
        try await server.stop()
    }

    @Test func shutdownDuringALongDownloadDeliversTheWholeReplyThenCloses() async throws {
        let server = try await TestServer.start()
        let loader = try await server.connect()
        // 15 documents of 1 MiB: one find reply of about 15 MiB.
        for part in 0..<3 {
            let reply = try await loader.command(
                ["insert": "big"], db: Self.db, sequences: [("documents", Self.docs(part * 5..<(part + 1) * 5, payload: 1 << 20))])
            #expect(reply?["n"] == .int32(5))
        }
        let idle = try await server.connect()
        #expect(try await idle.command(["ping": 1])?["ok"] == .double(1))

        let downloader = loader
        try await downloader.send(["find": "big", "batchSize": 15], db: Self.db)
        // Read the first 64 KiB only: the server is now writing the reply, the rest waits on it.
        let head = try await downloader.read(atLeast: 64 * 1024)
        #expect(head.count == 64 * 1024)
        let length = Int(Int32(littleEndian: head.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }))
        #expect(length > 15 << 20)

        await server.beginShutdown()
        // The idle connection is closed at once.
        #expect(try await idle.readUntilClosed() == 0)
        // The download completes byte for byte, then the connection closes.
        let rest = try await downloader.read(atLeast: length - head.count)
        #expect(rest.count == length - head.count, "reply cut short by shutdown: \(head.count + rest.count) of \(length) bytes")
        if rest.count == length - head.count {
            let body = try BSONDocument(validating: (head + rest)[21...])
            guard case .array(let batch)? = body.value(atPath: "cursor.firstBatch") else {
                Issue.record("no firstBatch")
                return
            }
            #expect(batch.count == 15)
        }
        #expect(try await downloader.readUntilClosed() == 0)
        try await server.waitUntilStopped()
        try await server.stop()
    }
}
