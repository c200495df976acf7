import BSON
import Compression
import NIOCore
import Testing
import Wire

/// OP_COMPRESSED frames: envelope, size checks before inflating, negotiation, the reply policy.
@Suite struct WireCompressionTests {
    static let policy = WireCompression()

    /// An OP_MSG `{insert: "fs.chunks", ...}` with a 200 kB payload, encoded for the wire.
    static func opMsg() -> ByteBuffer {
        let payload = [UInt8](repeating: 0x61, count: 200_000)
        let body: BSONDocument = ["insert": "fs.chunks", "data": .binary(BSONBinary(data: payload)), "$db": "test"]
        return OpMsg(body: body).encoded(requestID: 77, responseTo: 5)
    }

    /// Splits an encoded message into a frame.
    static func frame(_ buffer: ByteBuffer) throws -> WireFrame {
        var reader = buffer
        let header = try #require(MessageHeader.read(from: &reader))
        #expect(Int(header.messageLength) == buffer.readableBytes)
        return WireFrame(header: header, body: reader)
    }

    /// A hand-made OP_COMPRESSED frame.
    static func compressedFrame(original: Int32 = 2013, size: Int32, id: UInt8, data: [UInt8]) -> WireFrame {
        var body = ByteBuffer()
        body.writeInteger(original, endianness: .little)
        body.writeInteger(size, endianness: .little)
        body.writeInteger(id)
        body.writeBytes(data)
        return WireFrame(requestID: 9, responseTo: 0, opCode: .compressed, body: body)
    }

    static func kind(_ body: () throws -> Void) -> WireProtocolError.Kind? {
        do { try body() } catch { return (error as? WireProtocolError)?.kind }
        return nil
    }

    @Test(arguments: MessageCompressor.allCases)
    func frameRoundTrip(_ compressor: MessageCompressor) throws {
        let original = Self.opMsg()
        let compressed = WireCompression.deflate(original, with: compressor)
        let frame = try Self.frame(compressed)
        #expect(frame.header.opCode == .compressed)
        #expect(frame.header.requestID == 77 && frame.header.responseTo == 5)
        if compressor != .noop { #expect(compressed.readableBytes < original.readableBytes / 10) }

        let envelope = try OpCompressed(frame: frame)
        #expect(envelope.originalOpCode == .msg)
        #expect(Int(envelope.uncompressedSize) == original.readableBytes - 16)
        #expect(envelope.compressorID == compressor.rawValue)

        let (inflated, used) = try WireCompression(enabled: MessageCompressor.defaultList).inflate(frame)
        #expect(used == compressor)
        var expected = original
        expected.moveReaderIndex(forwardBy: 16)
        #expect(inflated.body == expected)
        #expect(inflated.header == MessageHeader(
            messageLength: Int32(original.readableBytes), requestID: 77, responseTo: 5, opCode: .msg))
        guard case .msg(let msg) = try WireRequest.parse(inflated) else {
            Issue.record("not an OP_MSG")
            return
        }
        #expect(msg.body["insert"] == "fs.chunks")
    }

    @Test func sizeAboveTheLimitIsRefusedBeforeInflating() {
        // Whatever follows is never looked at: the size check comes first.
        for size: Int32 in [48_000_000 - 15, 48_000_000, Int32.max] {
            #expect(Self.kind { _ = try Self.policy.inflate(Self.compressedFrame(size: size, id: 2, data: [1, 2, 3])) }
                == .invalidCompressedMessage)
        }
        let small = WireCompression(maxMessageLength: 1000)
        #expect(Self.kind { _ = try small.inflate(Self.compressedFrame(size: 985, id: 0, data: [])) } == .invalidCompressedMessage)
    }

    @Test func largestAllowedSizeIsAccepted() throws {
        let small = WireCompression(maxMessageLength: 1000)
        let data = [UInt8](repeating: 7, count: 984)
        let (frame, _) = try small.inflate(Self.compressedFrame(size: 984, id: 0, data: data))
        #expect(frame.body.readableBytes == 984 && frame.header.messageLength == 1000)
    }

    @Test func negativeSizeIsRefused() {
        for size: Int32 in [-1, Int32.min] {
            #expect(Self.kind { _ = try Self.policy.inflate(Self.compressedFrame(size: size, id: 0, data: [])) }
                == .invalidCompressedMessage)
        }
    }

    @Test func unknownOrDisabledCompressorIsRefused() throws {
        #expect(Self.kind { _ = try Self.policy.inflate(Self.compressedFrame(size: 0, id: 4, data: [])) } == .invalidCompressedMessage)
        #expect(Self.kind { _ = try Self.policy.inflate(Self.compressedFrame(size: 0, id: 255, data: [])) } == .invalidCompressedMessage)
        let zlibOnly = WireCompression(enabled: [.zlib])
        let snappy = WireCompression.deflate(Self.opMsg(), with: .snappy)
        let snappyFrame = try Self.frame(snappy)
        #expect(Self.kind { _ = try zlibOnly.inflate(snappyFrame) } == .invalidCompressedMessage)
        let disabled = WireCompression(enabled: [])
        #expect(disabled.accepted(id: 0) == nil)
        #expect(Self.kind { _ = try disabled.inflate(Self.compressedFrame(size: 0, id: 0, data: [])) } == .invalidCompressedMessage)
    }

    @Test func truncatedEnvelopeIsAFramingError() {
        var body = ByteBuffer()
        body.writeInteger(Int32(2013), endianness: .little)
        body.writeInteger(Int32(10), endianness: .little)
        let frame = WireFrame(requestID: 1, responseTo: 0, opCode: .compressed, body: body)
        #expect(Self.kind { _ = try Self.policy.inflate(frame) } == .truncated)
    }

    @Test func nestedCompressionIsRefused() {
        #expect(Self.kind { _ = try Self.policy.inflate(Self.compressedFrame(original: 2012, size: 3, id: 0, data: [1, 2, 3])) }
            == .invalidCompressedMessage)
    }

    /// The declared size must match what the data inflates to, in both directions.
    @Test(arguments: MessageCompressor.allCases)
    func wrongDeclaredSizeIsRefused(_ compressor: MessageCompressor) throws {
        let frame = try Self.frame(WireCompression.deflate(Self.opMsg(), with: compressor))
        let envelope = try OpCompressed(frame: frame)
        let data = Array(envelope.compressed.readableBytesView)
        for delta: Int32 in [-1, 1, -1000] {
            let wrong = Self.compressedFrame(size: envelope.uncompressedSize + delta, id: compressor.rawValue, data: data)
            #expect(Self.kind { _ = try Self.policy.inflate(wrong) } == .invalidCompressedMessage)
        }
    }

    @Test func optionParsing() throws {
        #expect(try MessageCompressor.parseList("snappy,zstd,zlib") == [.snappy, .zstd, .zlib])
        #expect(try MessageCompressor.parseList("zlib, snappy,zlib") == [.zlib, .snappy])
        #expect(try MessageCompressor.parseList("disabled") == [])
        #expect(try MessageCompressor.parseList("") == [])
        #expect(throws: UnknownCompressorName.self) { try MessageCompressor.parseList("snappy,lz4") }
        #expect(throws: UnknownCompressorName.self) { try MessageCompressor.parseList("snappy,") }
    }

    @Test func handshakeAndAuthenticationRepliesStayUncompressed() {
        for name in ["hello", "isMaster", "ismaster", "saslStart", "saslContinue", "getnonce", "authenticate",
                     "createUser", "updateUser", "copydbSaslStart", "copydbgetnonce", "copydb"] {
            #expect(!WireCompression.mayCompressReply(to: name))
        }
        for name in ["find", "insert", "getMore", "ping", "buildInfo"] {
            #expect(WireCompression.mayCompressReply(to: name))
        }
    }
}
