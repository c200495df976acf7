import BSON
import NIOCore
import Testing
import Wire

/// Builds wire messages byte by byte, independently of the encoders under test.
struct Bytes {
    var bytes: [UInt8] = []

    mutating func int32(_ value: Int32) {
        let bits = UInt32(bitPattern: value)
        bytes += [UInt8(bits & 0xFF), UInt8(bits >> 8 & 0xFF), UInt8(bits >> 16 & 0xFF), UInt8(bits >> 24)]
    }

    mutating func uint32(_ value: UInt32) { int32(Int32(bitPattern: value)) }

    mutating func int64(_ value: Int64) {
        let bits = UInt64(bitPattern: value)
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(bits >> UInt64(shift) & 0xFF)) }
    }

    mutating func byte(_ value: UInt8) { bytes.append(value) }

    mutating func cstring(_ string: String) {
        bytes += Array(string.utf8)
        bytes.append(0)
    }

    mutating func document(_ document: BSONDocument) { bytes += document.bytes }

    /// A kind-1 section: kind byte, size (including itself), identifier, documents.
    mutating func sequence(_ identifier: String, _ documents: [[UInt8]], sizeAdjustment: Int32 = 0) {
        byte(1)
        let payload = Array(identifier.utf8) + [0] + documents.flatMap { $0 }
        int32(Int32(4 + payload.count) + sizeAdjustment)
        bytes += payload
    }
}

enum Fixtures {
    /// Wraps `body` in a header whose messageLength is computed.
    static func message(requestID: Int32, responseTo: Int32 = 0, opCode: Int32, body: [UInt8]) -> [UInt8] {
        var b = Bytes()
        b.int32(Int32(16 + body.count))
        b.int32(requestID)
        b.int32(responseTo)
        b.int32(opCode)
        return b.bytes + body
    }

    /// An OP_MSG with the given flags and raw sections; appends a CRC-32C when bit 0 is set.
    static func opMsg(requestID: Int32 = 1, flags: UInt32 = 0, sections: [UInt8], corruptChecksum: Bool = false) -> [UInt8] {
        var b = Bytes()
        b.uint32(flags)
        b.bytes += sections
        guard flags & 1 != 0 else { return message(requestID: requestID, opCode: 2013, body: b.bytes) }
        var withoutChecksum = message(requestID: requestID, opCode: 2013, body: b.bytes + [0, 0, 0, 0])
        withoutChecksum.removeLast(4)
        var crc = CRC32C.checksum(withoutChecksum)
        if corruptChecksum { crc ^= 0x0000_0100 }
        var tail = Bytes()
        tail.uint32(crc)
        return withoutChecksum + tail.bytes
    }

    /// A kind-0 section.
    static func bodySection(_ document: BSONDocument) -> [UInt8] { [0] + document.bytes }

    static let clientMetadata: BSONValue = .document([
        "driver": .document(["name": "PyMongo", "version": "4.20.1"]),
        "os": .document(["type": "Linux", "name": "Linux", "architecture": "x86_64", "version": "6.1.0-18-amd64"]),
        "platform": "CPython 3.11.2.final.0",
    ])

    /// pymongo 4.20's first message: OP_MSG `{ismaster: 1, helloOk: true, client, compression: [], $db: "admin"}`.
    static let pymongoHelloBody: BSONDocument = [
        "ismaster": 1, "helloOk": true, "client": clientMetadata, "compression": [], "$db": "admin",
    ]
    static let pymongoHello = opMsg(requestID: 1_804_289_383, sections: bodySection(pymongoHelloBody))

    /// The chunk documents of a GridFS upload.
    static let chunkDocuments: [BSONDocument] = (0..<3).map { n in
        [
            "_id": .objectId(ObjectId(hex: "65f1a2b3c4d5e6f7a8b9c0\(String(0xd0 + n, radix: 16))") ?? ObjectId()),
            "files_id": .objectId(ObjectId(hex: "65f1a2b3c4d5e6f7a8b9c0ff") ?? ObjectId()),
            "n": .int32(Int32(n)),
            "data": .binary(BSONBinary(subtype: 0, data: Array(repeating: UInt8(0x41 + n), count: 37 + n))),
        ]
    }
    static let insertBody: BSONDocument = [
        "insert": "fs.chunks", "ordered": true,
        "lsid": .document(["id": .binary(BSONBinary(subtype: 4, data: Array(0..<16)))]),
        "$db": "test",
    ]
    /// pymongo's insert of three chunks, in a kind-1 `documents` section after the body.
    static let insertWithSequence: [UInt8] = {
        var sections = Bytes()
        sections.bytes = bodySection(insertBody)
        sections.sequence("documents", chunkDocuments.map(\.bytes))
        return opMsg(requestID: 7, sections: sections.bytes)
    }()

    static let isMasterQuery: BSONDocument = [
        "isMaster": 1, "helloOk": true,
        "client": .document([
            "driver": .document(["name": "mongoc", "version": "1.23.1"]),
            "os": .document(["type": "Linux", "name": "Debian GNU/Linux", "version": "12", "architecture": "x86_64"]),
            "platform": "cfg=0x0 CC=GCC 12.2.0",
        ]),
        "compression": [],
    ]

    /// An OP_QUERY on `namespace` with the given query document (flags 4, numberToReturn -1 by default).
    static func opQuery(
        requestID: Int32 = 1, flags: Int32 = 4, namespace: String = "admin.$cmd", skip: Int32 = 0,
        numberToReturn: Int32 = -1, query: [UInt8], selector: [UInt8]? = nil
    ) -> [UInt8] {
        var b = Bytes()
        b.int32(flags)
        b.cstring(namespace)
        b.int32(skip)
        b.int32(numberToReturn)
        b.bytes += query
        if let selector { b.bytes += selector }
        return message(requestID: requestID, opCode: 2004, body: b.bytes)
    }

    /// libmongoc 1.23's handshake: OP_QUERY isMaster on admin.$cmd, flags 4, numberToReturn -1.
    static let libmongocIsMaster = opQuery(requestID: 1, query: isMasterQuery.bytes)

    /// The same command wrapped in `$query` with a `$readPreference`, as sent with secondaryOk.
    static let wrappedIsMasterQuery: BSONDocument = [
        "$query": .document(["isMaster": 1]),
        "$readPreference": .document(["mode": "primaryPreferred"]),
    ]
    static let wrappedIsMaster = opQuery(requestID: 2, query: wrappedIsMasterQuery.bytes)

    /// A document whose second element has the undefined type byte 0x99.
    static let invalidDocument: [UInt8] = {
        var bytes = doc(["a": 1, "b": 2]).bytes
        bytes[11] = 0x99  // 4 length + (1 type + "a\0" + 4 int32) = 11: type byte of "b"
        return bytes
    }()
}

/// Decodes `bytes` as exactly one frame.
func decodeFrame(_ bytes: [UInt8], maxMessageLength: Int = WireFrameDecoder.defaultMaxMessageLength) throws -> WireFrame {
    var decoder = WireFrameDecoder(maxMessageLength: maxMessageLength)
    var buffer = ByteBuffer(bytes: bytes)
    let frame = try #require(try decoder.decode(buffer: &buffer))
    #expect(buffer.readableBytes == 0)
    return frame
}

/// Feeds `chunks` to one decoder the way ByteToMessageHandler does (appending to a cumulation
/// buffer and decoding until nil) and returns every frame produced.
func decodeChunks(_ chunks: [ArraySlice<UInt8>], maxMessageLength: Int = WireFrameDecoder.defaultMaxMessageLength) throws -> [WireFrame] {
    var decoder = WireFrameDecoder(maxMessageLength: maxMessageLength)
    var cumulation = ByteBuffer()
    var frames: [WireFrame] = []
    for chunk in chunks {
        cumulation.writeBytes(chunk)
        while let frame = try decoder.decode(buffer: &cumulation) { frames.append(frame) }
    }
    while let frame = try decoder.decodeLast(buffer: &cumulation, seenEOF: true) { frames.append(frame) }
    return frames
}

/// A document from a dictionary literal (in field order).
func doc(_ document: BSONDocument) -> BSONDocument { document }
