import NIOCore
import Testing

@testable import Server

/// The first-bytes rule that tells a TLS ClientHello from a wire-protocol message.
@Suite struct TLSSnifferTests {
    /// A wire header: length, request id, responseTo, opcode (little-endian).
    private func wireHeader(length: UInt32, opCode: Int32) -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeInteger(length, endianness: .little)
        buffer.writeInteger(Int32(7), endianness: .little)
        buffer.writeInteger(Int32(0), endianness: .little)
        buffer.writeInteger(opCode, endianness: .little)
        return Array(buffer.readableBytesView)
    }

    /// The first 16 bytes of a TLS 1.2/1.3 ClientHello record.
    private let clientHello: [UInt8] = [
        0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x5a, 0x9e, 0x11, 0xc0, 0x42,
    ]

    private func classify(_ bytes: [UInt8]) -> TLSSniffer.Verdict? {
        TLSSniffer.classify(ByteBuffer(bytes: bytes))
    }

    @Test func clientHelloIsTLSOnceSixteenBytesAreIn() {
        #expect(classify(clientHello) == .tls)
        for count in 0..<16 { #expect(classify(Array(clientHello.prefix(count))) == nil) }
    }

    @Test func ordinaryMessagesArePlainOnTheirFirstByte() {
        #expect(classify(wireHeader(length: 300, opCode: 2013)) == .plain)
        #expect(classify([0x2c]) == .plain)
    }

    @Test func aMessageLengthThatLooksLikeARecordHeaderIsStillPlain() {
        // 0x00010316 = 66,326 bytes: starts 16 03 01 like a TLS record; the opcode decides.
        let header = wireHeader(length: 0x0001_0316, opCode: 2013)
        #expect(Array(header.prefix(3)) == [0x16, 0x03, 0x01])
        #expect(classify(Array(header.prefix(5))) == nil)
        #expect(classify(Array(header.prefix(6))) == .plain)  // byte 5 (request id) is not 1
        var tricky = header
        tricky[5] = 0x01  // request id byte equal to the ClientHello handshake type
        #expect(classify(Array(tricky.prefix(15))) == nil)
        #expect(classify(tricky) == .plain)
        // Length 278 (0x116): first byte 0x16, second 0x01 — plain at the second byte.
        #expect(classify([0x16, 0x01]) == .plain)
    }

    @Test func recordVersionsAboveTLS13AreNotTLS() {
        #expect(classify([0x16, 0x03, 0x05]) == .plain)
        #expect(classify([0x16, 0x02]) == .plain)
    }
}
