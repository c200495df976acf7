import BSON
import NIOCore
import Testing
import Wire

private func parseQuery(_ bytes: [UInt8]) throws -> OpQuery {
    let request = try WireRequest.parse(try decodeFrame(bytes))
    guard case .query(let query) = request else {
        throw WireProtocolError(.unexpectedOpCode, "expected .query, got \(request)")
    }
    return query
}

private func expectQueryError(
    _ kind: WireProtocolError.Kind, _ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let frame = try decodeFrame(bytes)
    let error = #expect(throws: WireProtocolError.self, sourceLocation: sourceLocation) { try WireRequest.parse(frame) }
    #expect(error?.kind == kind, "\(error?.message ?? "no error")", sourceLocation: sourceLocation)
}

@Suite struct OpQueryTests {
    @Test func libmongocIsMaster() throws {
        let query = try parseQuery(Fixtures.libmongocIsMaster)
        #expect(query.flags == .secondaryOk)
        #expect(query.flags.rawValue == 4)
        #expect(query.fullCollectionName == "admin.$cmd")
        #expect(query.databaseName == "admin")
        #expect(query.collectionName == "$cmd")
        #expect(query.isCommand)
        #expect(query.numberToSkip == 0)
        #expect(query.numberToReturn == -1)
        #expect(query.query == Fixtures.isMasterQuery)
        #expect(query.returnFieldsSelector == nil)

        let command = try query.command()
        #expect(command.database == "admin")
        #expect(command.document.keys == ["isMaster", "helloOk", "client", "compression", "$db"])
        #expect(command.document["$db"] == "admin")
        #expect(command.document["isMaster"] == 1)
    }

    @Test func wrappedInDollarQuery() throws {
        let query = try parseQuery(Fixtures.wrappedIsMaster)
        let command = try query.command()
        #expect(command.database == "admin")
        #expect(command.document == [
            "isMaster": 1, "$readPreference": .document(["mode": "primaryPreferred"]), "$db": "admin",
        ])
    }

    @Test func existingDbAndReadPreferenceAreKept() throws {
        let inner: BSONDocument = ["hello": 1, "$readPreference": .document(["mode": "secondary"]), "$db": "other"]
        let bytes = Fixtures.opQuery(
            namespace: "test.$cmd",
            query: doc(["$query": .document(inner), "$readPreference": .document(["mode": "nearest"]),
                                 "$maxTimeMS": 100]).bytes
        )
        let command = try parseQuery(bytes).command()
        #expect(command.database == "test")
        #expect(command.document == inner)
    }

    @Test func returnFieldsSelector() throws {
        let selector: BSONDocument = ["_id": 1]
        let bytes = Fixtures.opQuery(
            flags: 0, namespace: "db.coll", skip: 5, numberToReturn: 10, query: doc(["a": 1]).bytes,
            selector: selector.bytes
        )
        let query = try parseQuery(bytes)
        #expect(query.returnFieldsSelector == selector)
        #expect(query.numberToSkip == 5)
        #expect(query.numberToReturn == 10)
        #expect(!query.isCommand)
        let error = #expect(throws: WireProtocolError.self) { try query.command() }
        #expect(error?.kind == .invalidNamespace)
    }

    @Test func splitAtEveryByteBoundary() throws {
        let expected = try parseQuery(Fixtures.wrappedIsMaster)
        let bytes = Fixtures.wrappedIsMaster
        for split in 0...bytes.count {
            let frames = try decodeChunks([bytes[..<split], bytes[split...]])
            #expect(try frames.map { try OpQuery(frame: $0) } == [expected], "split at \(split)")
        }
    }

    @Test func namespaces() throws {
        for (ns, ok) in [("admin.$cmd", true), (".$cmd", false), ("admin", false), ("admin.$cmdx", false), ("a.b.$cmd", false)] {
            let query = try parseQuery(Fixtures.opQuery(namespace: ns, query: doc(["ping": 1]).bytes))
            #expect(query.isCommand == ok, "\(ns)")
            if !ok {
                #expect(throws: WireProtocolError.self) { try query.command() }
            }
        }
    }

    @Test func badCommands() throws {
        let empty = try OpQuery(frame: decodeFrame(Fixtures.opQuery(query: BSONDocument().bytes)))
        #expect(throws: WireProtocolError.self) { try empty.command() }
        let wrappedEmpty = try OpQuery(frame: decodeFrame(Fixtures.opQuery(query: doc(["$query": .document([:])]).bytes)))
        #expect(throws: WireProtocolError.self) { try wrappedEmpty.command() }
        let notDocument = try OpQuery(frame: decodeFrame(Fixtures.opQuery(query: doc(["$query": 1]).bytes)))
        let error = #expect(throws: WireProtocolError.self) { try notDocument.command() }
        #expect(error?.kind == .invalidCommand)
        // WireRequest answers them with 9 FailedToParse instead of closing the connection.
        let request = try WireRequest.parse(decodeFrame(Fixtures.opQuery(query: doc(["$query": 1]).bytes)))
        guard case .rejected(let rejection) = request else {
            Issue.record("expected .rejected, got \(request)")
            return
        }
        #expect(rejection.code == 9 && rejection.legacy)
    }

    @Test func malformed() throws {
        let ping = doc(["ping": 1]).bytes
        // Trailing bytes after the selector.
        try expectQueryError(.trailingBytes, Fixtures.opQuery(query: ping, selector: ping + [0, 0, 0]))
        // Extra bytes shorter than a length prefix.
        try expectQueryError(.truncated, Fixtures.opQuery(query: ping + [1, 2]))
        // Query document cut short.
        try expectQueryError(.truncated, Fixtures.opQuery(query: Array(ping.dropLast())))
        // Invalid query document: refused with an error reply, not fatal.
        try expectRejected(Fixtures.opQuery(query: Fixtures.invalidDocument), legacy: true)
        // Unterminated namespace.
        try expectQueryError(.invalidCString, Fixtures.message(requestID: 1, opCode: 2004, body: [4, 0, 0, 0, 0x61, 0x62]))
        // Header fields cut off.
        var b = Bytes()
        b.int32(4)
        b.cstring("admin.$cmd")
        b.int32(0)
        try expectQueryError(.truncated, Fixtures.message(requestID: 1, opCode: 2004, body: b.bytes))
    }

    @Test func encoderRoundTrips() throws {
        let query = OpQuery(
            flags: .secondaryOk, fullCollectionName: "admin.$cmd", query: Fixtures.isMasterQuery
        )
        var buffer = ByteBuffer()
        query.write(requestID: 1, to: &buffer)
        #expect(buffer.readableBytesView.elementsEqual(Fixtures.libmongocIsMaster))
    }
}
