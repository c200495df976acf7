import BSON
import NIOCore
import NIOTestUtils
import Testing
import Wire

@Suite struct WireFrameDecoderTests {
    static let fixtures: [(String, [UInt8])] = [
        ("pymongo hello", Fixtures.pymongoHello),
        ("insert with sequence", Fixtures.insertWithSequence),
        ("libmongoc isMaster", Fixtures.libmongocIsMaster),
        ("wrapped isMaster", Fixtures.wrappedIsMaster),
    ]

    @Test func decodesWholeMessage() throws {
        let frame = try decodeFrame(Fixtures.pymongoHello)
        #expect(frame.header.messageLength == Int32(Fixtures.pymongoHello.count))
        #expect(frame.header.requestID == 1_804_289_383)
        #expect(frame.header.responseTo == 0)
        #expect(frame.header.opCode == .msg)
        #expect(frame.body.readableBytesView.elementsEqual(Fixtures.pymongoHello[16...]))
    }

    @Test(arguments: fixtures.map(\.0))
    func splitAtEveryByteBoundary(fixture: String) throws {
        let bytes = try #require(Self.fixtures.first { $0.0 == fixture }?.1)
        let whole = try decodeFrame(bytes)
        for split in 0...bytes.count {
            let frames = try decodeChunks([bytes[..<split], bytes[split...]])
            #expect(frames == [whole], "split at \(split)")
        }
    }

    @Test func twoMessagesSplitAtEveryByteBoundary() throws {
        let stream = Fixtures.libmongocIsMaster + Fixtures.insertWithSequence
        let expected = [try decodeFrame(Fixtures.libmongocIsMaster), try decodeFrame(Fixtures.insertWithSequence)]
        for split in 0...stream.count {
            #expect(try decodeChunks([stream[..<split], stream[split...]]) == expected, "split at \(split)")
        }
        // And one byte at a time.
        #expect(try decodeChunks(stream.indices.map { stream[$0...$0] }) == expected)
    }

    @Test func everyFixtureParsesAfterAnySplit() throws {
        for (name, bytes) in Self.fixtures {
            for split in stride(from: 0, through: bytes.count, by: 7) {
                let frames = try decodeChunks([bytes[..<split], bytes[split...]])
                #expect(frames.count == 1, "\(name) split at \(split)")
                for frame in frames { _ = try WireRequest.parse(frame) }
            }
        }
    }

    @Test func verifierAcceptsDecoder() throws {
        let pairs = try Self.fixtures.map { _, bytes in
            (ByteBuffer(bytes: bytes), [try decodeFrame(bytes)])
        }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { WireFrameDecoder() }
    }

    @Test func waitsForLengthPrefix() throws {
        var decoder = WireFrameDecoder()
        var buffer = ByteBuffer(bytes: [0x30, 0, 0])
        #expect(try decoder.decode(buffer: &buffer) == nil)
        #expect(buffer.readableBytes == 3)
    }

    @Test(arguments: [Int32(0), 1, 15, -1, Int32.min])
    func rejectsLengthBelowHeader(length: Int32) {
        var b = Bytes()
        b.int32(length)
        var decoder = WireFrameDecoder()
        var buffer = ByteBuffer(bytes: b.bytes)  // only the length: nothing else is awaited
        let error = #expect(throws: WireProtocolError.self) { try decoder.decode(buffer: &buffer) }
        #expect(error?.kind == .invalidMessageLength)
        #expect(error?.message.contains("\(length)") == true)
    }

    @Test(arguments: [Int32(48_000_001), 100_000_000, Int32.max])
    func rejectsLengthAboveMaximum(length: Int32) {
        var b = Bytes()
        b.int32(length)
        var decoder = WireFrameDecoder()
        var buffer = ByteBuffer(bytes: b.bytes)
        let error = #expect(throws: WireProtocolError.self) { try decoder.decode(buffer: &buffer) }
        #expect(error?.kind == .invalidMessageLength)
        #expect(error?.message.contains("48000000") == true)
    }

    @Test func acceptsExactlyTheMaximumAndWaits() throws {
        var b = Bytes()
        b.int32(48_000_000)
        b.int32(1)
        var decoder = WireFrameDecoder()
        var buffer = ByteBuffer(bytes: b.bytes)
        #expect(try decoder.decode(buffer: &buffer) == nil)
        #expect(buffer.readableBytes == 8)
    }

    @Test func maximumIsAParameter() throws {
        let bytes = Fixtures.pymongoHello
        #expect(throws: WireProtocolError.self) { try decodeFrame(bytes, maxMessageLength: bytes.count - 1) }
        #expect(try decodeFrame(bytes, maxMessageLength: bytes.count).header.opCode == .msg)
    }

    @Test func headerOnlyMessageHasEmptyBody() throws {
        let frame = try decodeFrame(Fixtures.message(requestID: 3, opCode: 2013, body: []))
        #expect(frame.body.readableBytes == 0)
        let error = #expect(throws: WireProtocolError.self) { try WireRequest.parse(frame) }
        #expect(error?.kind == .truncated)
    }

    @Test func channelPipelineDeliversFrames() throws {
        let pairs = [(ByteBuffer(bytes: Fixtures.pymongoHello + Fixtures.wrappedIsMaster),
                      [try decodeFrame(Fixtures.pymongoHello), try decodeFrame(Fixtures.wrappedIsMaster)])]
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { WireFrameDecoder() }
    }

    @Test func frameRoundTrips() throws {
        let frame = try decodeFrame(Fixtures.insertWithSequence)
        var out = ByteBuffer()
        frame.write(to: &out)
        #expect(out.readableBytesView.elementsEqual(Fixtures.insertWithSequence))
        let rebuilt = WireFrame(requestID: 7, responseTo: 0, opCode: .msg, body: frame.body)
        #expect(rebuilt == frame)
    }

    @Test func opCodes() {
        #expect(OpCode(rawValue: 2013) == .msg)
        #expect(OpCode(rawValue: 2004) == .query)
        #expect(OpCode(rawValue: 1) == .reply)
        #expect(OpCode(rawValue: 2012) == .compressed)
        #expect(OpCode(rawValue: 2002) == .unknown(2002))
        #expect(OpCode.unknown(2002).rawValue == 2002)
        #expect(OpCode.msg.description == "OP_MSG")
    }
}
