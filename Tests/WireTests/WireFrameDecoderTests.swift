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

/// The assembler the server uses instead of `ByteToMessageHandler`: same frames for any split of the
/// stream, the same errors, and large-frame buffers reused once the previous frame was dropped.
@Suite struct WireFrameAssemblerTests {
    func assemble(_ chunks: [ArraySlice<UInt8>], maxMessageLength: Int = WireFrameDecoder.defaultMaxMessageLength) throws -> [WireFrame] {
        var assembler = WireFrameAssembler(maxMessageLength: maxMessageLength)
        var frames: [WireFrame] = []
        for chunk in chunks {
            try assembler.feed(ByteBuffer(bytes: chunk), allocator: ByteBufferAllocator()) { frames.append($0) }
        }
        return frames
    }

    @Test func matchesTheDecoderForEverySplitOfTwoMessages() throws {
        let stream = Fixtures.libmongocIsMaster + Fixtures.insertWithSequence + Fixtures.pymongoHello
        let expected = try decodeChunks([stream[...]])
        #expect(expected.count == 3)
        for split in 0...stream.count {
            #expect(try assemble([stream[..<split], stream[split...]]) == expected, "split at \(split)")
        }
        for a in stride(from: 0, through: stream.count, by: 13) {
            for b in stride(from: a, through: stream.count, by: 17) {
                #expect(try assemble([stream[..<a], stream[a..<b], stream[b...]]) == expected, "split at \(a), \(b)")
            }
        }
        #expect(try assemble(stream.indices.map { stream[$0...$0] }) == expected)
    }

    @Test func rejectsBadLengthsFromTheFirstFourBytes() throws {
        #expect(throws: WireProtocolError.self) { try assemble([[15, 0, 0, 0]]) }
        #expect(throws: WireProtocolError.self) { try assemble([[0xFF, 0xFF, 0xFF, 0x7F]]) }
        #expect(throws: WireProtocolError.self) { try assemble([[0, 0], [0, 0x80]]) }
        #expect(throws: WireProtocolError.self) { try assemble([[0x10, 0x27, 0, 0]], maxMessageLength: 9_999) }
        // A bad second frame after a good one.
        let good = Fixtures.pymongoHello
        #expect(throws: WireProtocolError.self) { try assemble([good[...] + [3, 0, 0, 0]]) }
    }

    /// A large frame with a recognisable body; `length` includes the 16-byte header.
    func largeFrame(_ length: Int, fill: UInt8) -> [UInt8] {
        var bytes = withUnsafeBytes(of: Int32(length).littleEndian, Array.init)
        bytes += [1, 0, 0, 0, 0, 0, 0, 0, 0xDD, 0x07, 0, 0]  // requestID 1, responseTo 0, OP_MSG
        bytes += [UInt8](repeating: fill, count: length - 16)
        return bytes
    }

    func baseAddress(_ buffer: ByteBuffer) -> UInt {
        buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
    }

    @Test func largeFrameBuffersAreReusedOnceReleased() throws {
        var assembler = WireFrameAssembler()
        let size = 3 << 20
        var addresses: [UInt] = []
        for round in 0..<3 {
            let bytes = largeFrame(size, fill: UInt8(round))
            var got: [WireFrame] = []
            // Arrives in 64 KiB reads, as from a socket.
            for start in stride(from: 0, to: bytes.count, by: 65536) {
                try assembler.feed(ByteBuffer(bytes: bytes[start..<min(start + 65536, bytes.count)]), allocator: ByteBufferAllocator()) {
                    got.append($0)
                }
            }
            #expect(got.count == 1)
            #expect(got.first?.body.readableBytesView.elementsEqual(bytes[16...]) == true)
            addresses.append(got.first.map { baseAddress($0.body) } ?? 0)
            // The frame is dropped here (as the server does after parsing).
        }
        #expect(addresses[1] == addresses[0])
        #expect(addresses[2] == addresses[0])
        // A frame still held is never overwritten: the next one gets new storage.
        let held = largeFrame(size, fill: 7)
        var kept: [WireFrame] = []
        for start in stride(from: 0, to: held.count, by: 65536) {
            try assembler.feed(ByteBuffer(bytes: held[start..<min(start + 65536, held.count)]), allocator: ByteBufferAllocator()) { kept.append($0) }
        }
        let next = largeFrame(size, fill: 8)
        var fresh: [WireFrame] = []
        for start in stride(from: 0, to: next.count, by: 65536) {
            try assembler.feed(ByteBuffer(bytes: next[start..<min(start + 65536, next.count)]), allocator: ByteBufferAllocator()) { fresh.append($0) }
        }
        #expect(kept.first?.body.readableBytesView.elementsEqual(held[16...]) == true)
        #expect(fresh.first?.body.readableBytesView.elementsEqual(next[16...]) == true)
        #expect(kept.first.map { baseAddress($0.body) } != fresh.first.map { baseAddress($0.body) })
    }
}
