import BSON
import NIOCore
import Testing
import Wire

@Suite struct EncodingTests {
    static let ok: BSONDocument = ["ok": 1.0]
    /// `{ok: 1.0}`: length 17, double "ok", 1.0, terminator.
    static let okBytes: [UInt8] = [17, 0, 0, 0, 0x01, 0x6F, 0x6B, 0, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0]

    @Test func okDocumentBytes() {
        #expect(Self.ok.bytes == Self.okBytes)
    }

    @Test func opReplyIsByteExact() throws {
        let reply = OpReply(commandReply: Self.ok)
        let encoded = reply.encoded(requestID: 7, responseTo: 42)
        let expected: [UInt8] = [
            53, 0, 0, 0,  // messageLength
            7, 0, 0, 0,  // requestID
            42, 0, 0, 0,  // responseTo
            1, 0, 0, 0,  // OP_REPLY
            0, 0, 0, 0,  // responseFlags
            0, 0, 0, 0, 0, 0, 0, 0,  // cursorID
            0, 0, 0, 0,  // startingFrom
            1, 0, 0, 0,  // numberReturned
        ] + Self.okBytes
        #expect(Array(encoded.readableBytesView) == expected)
        #expect(try OpReply(frame: decodeFrame(expected)) == reply)
    }

    @Test func opReplyWithCursorAndSeveralDocuments() throws {
        let reply = OpReply(
            responseFlags: .awaitCapable, cursorID: 0x0102_0304_0506_0708, startingFrom: 3,
            documents: Fixtures.chunkDocuments
        )
        var buffer = ByteBuffer(bytes: [0xAA])  // writes append after existing bytes
        reply.write(requestID: -5, responseTo: 9, to: &buffer)
        #expect(buffer.readInteger(as: UInt8.self) == 0xAA)
        var b = Bytes()
        b.int32(8)
        b.int64(0x0102_0304_0506_0708)
        b.int32(3)
        b.int32(3)
        for d in Fixtures.chunkDocuments { b.document(d) }
        let expected = Fixtures.message(requestID: -5, responseTo: 9, opCode: 1, body: b.bytes)
        #expect(Array(buffer.readableBytesView) == expected)
        #expect(try OpReply(frame: decodeFrame(expected)) == reply)
    }

    @Test func opReplyParserRejectsMismatchedCount() throws {
        var b = Bytes()
        b.int32(0)
        b.int64(0)
        b.int32(0)
        b.int32(2)
        b.bytes += Self.okBytes
        let error = #expect(throws: WireProtocolError.self) {
            try OpReply(frame: decodeFrame(Fixtures.message(requestID: 1, opCode: 1, body: b.bytes)))
        }
        #expect(error?.kind == .truncated)
    }

    @Test func opMsgReplyIsByteExact() throws {
        var buffer = ByteBuffer()
        OpMsg.writeReply(Self.ok, requestID: 8, responseTo: 1_804_289_383, to: &buffer)
        let expected: [UInt8] = [
            38, 0, 0, 0,  // messageLength: 16 + 4 + 1 + 17
            8, 0, 0, 0,  // requestID
            0x67, 0x45, 0x8B, 0x6B,  // responseTo 1804289383
            0xDD, 0x07, 0, 0,  // OP_MSG 2013
            0, 0, 0, 0,  // flagBits
            0,  // kind 0
        ] + Self.okBytes
        #expect(Array(buffer.readableBytesView) == expected)
        let parsed = try OpMsg(frame: decodeFrame(expected))
        #expect(parsed == OpMsg(body: Self.ok))
    }

    @Test func opMsgWithSequencesMatchesDriverBytes() throws {
        let msg = OpMsg(
            body: Fixtures.insertBody,
            documentSequences: [.init(identifier: "documents", documents: Fixtures.chunkDocuments)]
        )
        let encoded = msg.encoded(requestID: 7, responseTo: 0)
        #expect(Array(encoded.readableBytesView) == Fixtures.insertWithSequence)
        #expect(try OpMsg(frame: decodeFrame(Fixtures.insertWithSequence)) == msg)
    }

    @Test func opMsgWithChecksumRoundTrips() throws {
        let msg = OpMsg(
            flags: [.checksumPresent, .moreToCome], body: Fixtures.insertBody,
            documentSequences: [
                .init(identifier: "documents", documents: Fixtures.chunkDocuments),
                .init(identifier: "updates", documents: []),
            ]
        )
        var buffer = ByteBuffer(bytes: [1, 2, 3])
        buffer.moveReaderIndex(forwardBy: 2)  // the encoder must checksum only its own bytes
        msg.write(requestID: 11, responseTo: 0, to: &buffer)
        buffer.moveReaderIndex(forwardBy: 1)
        let bytes = Array(buffer.readableBytesView)
        var sections = Bytes()
        sections.bytes = Fixtures.bodySection(Fixtures.insertBody)
        sections.sequence("documents", Fixtures.chunkDocuments.map(\.bytes))
        sections.sequence("updates", [])
        #expect(bytes == Fixtures.opMsg(requestID: 11, flags: 3, sections: sections.bytes))
        #expect(try OpMsg(frame: decodeFrame(bytes)) == msg)
    }

    @Test func pymongoHelloRoundTrips() throws {
        let msg = try OpMsg(frame: decodeFrame(Fixtures.pymongoHello))
        #expect(Array(msg.encoded(requestID: 1_804_289_383, responseTo: 0).readableBytesView) == Fixtures.pymongoHello)
    }

    @Test func headerWrite() {
        var buffer = ByteBuffer()
        MessageHeader(messageLength: 0x0102_0304, requestID: -1, responseTo: 2, opCode: .unknown(2002)).write(to: &buffer)
        #expect(Array(buffer.readableBytesView) == [4, 3, 2, 1, 0xFF, 0xFF, 0xFF, 0xFF, 2, 0, 0, 0, 0xD2, 0x07, 0, 0])
        #expect(MessageHeader.read(from: &buffer)?.opCode == .unknown(2002))
        #expect(buffer.readableBytes == 0)
    }
}
