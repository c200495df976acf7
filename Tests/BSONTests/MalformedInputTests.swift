import TestSupport
import Testing
@testable import BSON

/// Hostile bytes and text must be rejected with a thrown error, never crash.
@Suite("Malformed input")
struct MalformedInputTests {
    static let samples: [[UInt8]] = BSONCorpus.valid.compactMap { bytes(fromHex: $0.canonicalBSON) }
        + [BSONDocument(BSONBuilderTests.everyType).bytes]

    /// Exercises every reader on a document; none may crash.
    static func readEverything(_ doc: BSONDocument) {
        _ = doc.count
        _ = doc.keys
        _ = doc.pairs
        for e in doc.elements {
            _ = e.value
            _ = e.rawElement
            _ = e.binaryPayloadRange
            _ = doc.value(atPath: e.key + ".0.x")
        }
        _ = doc.canonicalExtendedJSON
        _ = doc.relaxedExtendedJSON
        _ = rebuiltThroughValues(doc)
    }

    @Test func everyTruncationIsRejected() {
        for sample in Self.samples {
            for n in 0..<sample.count {
                #expect(throws: BSONError.self) { try BSONDocument(validating: sample.prefix(n)) }
            }
        }
    }

    @Test func wrongDeclaredLengthsAreRejected() {
        for sample in Self.samples {
            for delta in [-1, 1, -5, 1000, Int(Int32.min)] {
                var b = sample
                let n = UInt32(truncatingIfNeeded: b.count + delta)
                b[0] = UInt8(truncatingIfNeeded: n); b[1] = UInt8(truncatingIfNeeded: n >> 8)
                b[2] = UInt8(truncatingIfNeeded: n >> 16); b[3] = UInt8(truncatingIfNeeded: n >> 24)
                #expect(throws: BSONError.self) { try BSONDocument(validating: b) }
            }
            #expect(throws: BSONError.self) { try BSONDocument(validating: sample + [0]) }
        }
    }

    @Test(arguments: [
        // {"a": true} with the boolean byte set to 2.
        ("bad bool", "090000000861000200", "boolean"),
        // key with a lone continuation byte
        ("bad UTF-8 in key", "0c0000001080000100000000", "UTF-8"),
        // string value with an overlong encoding of '/'
        ("overlong UTF-8", "0f00000002610003000000c0af0000", "UTF-8"),
        // string value with an encoded surrogate
        ("surrogate in string", "1000000002610004000000eda0800000", "UTF-8"),
        // regex pattern with a bad byte
        ("bad UTF-8 in regex", "0b0000000b6100ff000000", "UTF-8"),
        // string whose length is zero
        ("zero string length", "0d000000026100000000000000", "string"),
        // unknown type 0x14
        ("unknown type", "0c0000001461000100000000", "unknown"),
        // document shorter than its header
        ("tiny", "04000000", "shorter"),
    ])
    func rejects(_ name: String, _ hex: String, _ reason: String) throws {
        let data = try #require(bytes(fromHex: hex), "bad hex")
        let error = #expect(throws: BSONError.self, "\(name)") { try BSONDocument(validating: data) }
        #expect(error?.message.contains(reason) == true, "\(name): \(error?.message ?? "accepted")")
    }

    static func nested(depth: Int, array: Bool) -> [UInt8] {
        var inner = BSONDocument()
        for _ in 0..<depth {
            var outer = BSONDocument()
            if array { outer.append("0", .array([])) } else { outer.append("a", .null) }
            // Splice the previous level in as the value.
            var b = [UInt8]()
            b.append(array ? 4 : 3)
            b.append(contentsOf: array ? [0x30, 0] : [0x61, 0])
            b.append(contentsOf: inner.bytes)
            let total = 4 + b.count + 1
            outer = BSONDocument(trusted: [UInt8(truncatingIfNeeded: total), UInt8(truncatingIfNeeded: total >> 8),
                                           UInt8(truncatingIfNeeded: total >> 16), UInt8(truncatingIfNeeded: total >> 24)] + b + [0])
            inner = outer
        }
        return inner.bytes
    }

    @Test func nestingIsBounded() throws {
        for array in [false, true] {
            let ok = try BSONDocument(validating: Self.nested(depth: 150, array: array))
            Self.readEverything(ok)
            #expect(throws: BSONError.self) { try BSONDocument(validating: Self.nested(depth: 201, array: array)) }
            #expect(throws: BSONError.self) { try BSONDocument(validating: Self.nested(depth: 20_000, array: array)) }
        }
        let deepJSON = String(repeating: "{\"a\":", count: 50_000) + "1" + String(repeating: "}", count: 50_000)
        #expect(throws: BSONError.self) { try BSONDocument(extendedJSON: deepJSON) }
        let deepArrays = "{\"a\":" + String(repeating: "[", count: 50_000) + String(repeating: "]", count: 50_000) + "}"
        #expect(throws: BSONError.self) { try BSONDocument(extendedJSON: deepArrays) }
    }

    /// Random byte flips, insertions and deletions over every corpus document: validation either
    /// throws or accepts a document that every reader handles, that libbson also accepts, and that
    /// re-encodes to a valid document.
    @Test func mutationsNeverCrash() throws {
        var rng = SplitMix64(state: 0x5EED)
        var accepted = 0
        for sample in Self.samples {
            for _ in 0..<40 {
                var b = sample
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    let i = Int.random(in: 0..<b.count, using: &rng)
                    switch Int.random(in: 0..<4, using: &rng) {
                    case 0: b[i] = UInt8.random(in: 0...255, using: &rng)
                    case 1: b[i] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                    case 2: b.insert(UInt8.random(in: 0...255, using: &rng), at: i)
                    default: if b.count > 1 { b.remove(at: i) }
                    }
                }
                // Keep the length header right half of the time so mutations reach the elements.
                if Bool.random(using: &rng), b.count >= 4 {
                    let n = UInt32(b.count)
                    b[0] = UInt8(truncatingIfNeeded: n); b[1] = UInt8(truncatingIfNeeded: n >> 8)
                    b[2] = UInt8(truncatingIfNeeded: n >> 16); b[3] = UInt8(truncatingIfNeeded: n >> 24)
                }
                guard let doc = try? BSONDocument(validating: b) else { continue }
                accepted += 1
                Self.readEverything(doc)
                #expect(BSONDocument.libbsonValidationError(b) == nil, "Swift accepted what libbson rejects: \(hexString(b))")
                #expect(throws: Never.self) { try BSONDocument.validate(rebuiltThroughValues(doc).bytes) }
            }
        }
        #expect(accepted > 0)
    }

    /// Readers on bytes that were never validated (internal `trusted` path) stay in bounds.
    @Test func readersOnGarbageStayInBounds() {
        var rng = SplitMix64(state: 42)
        for _ in 0..<2000 {
            let n = Int.random(in: 0..<40, using: &rng)
            var b = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if b.count >= 5, Bool.random(using: &rng) {
                b[0] = UInt8(b.count); b[1] = 0; b[2] = 0; b[3] = 0
                b[b.count - 1] = 0
            }
            let doc = BSONDocument(trusted: b)
            _ = doc.count
            _ = doc.pairs
            _ = doc.value(atPath: "a.b")
            _ = try? BSONDocument(validating: b)
        }
    }

    @Test(arguments: [
        "", "[]", "1", "{", "{\"a\":}", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":\"\\x\"}",
        "{\"a\":\"\\ud800\"}", "{\"a\":tru}", "{\"a\":1} x", "{\"$oid\":\"56e1fc72e0c917e9c4714161\"}",
        "{\"a\":{\"$date\":\"2012-13-01T00:00:00Z\"}}", "{\"a\":{\"$date\":\"yesterday\"}}",
        "{\"a\":{\"$numberInt\":\"2147483648\"}}", "{\"a\":{\"$numberLong\":\"1.5\"}}",
        "{\"a\":{\"$numberDouble\":\"inf\"}}", "{\"a\":{\"$binary\":{\"base64\":\"AA\",\"subType\":\"00\"}}}",
        "{\"a\":{\"$binary\":{\"base64\":\"AA==\",\"subType\":\"100\"}}}", "{\"a\":{\"$undefined\":false}}",
        "{\"a\":{\"$timestamp\":{\"t\":-1,\"i\":0}}}", "{\"a\":{\"$timestamp\":{\"t\":1.5,\"i\":0}}}",
        "{\"a\":{\"$code\":\"x\",\"$scope\":{\"$oid\":\"56e1fc72e0c917e9c4714161\"}}}",
    ])
    func badExtendedJSONIsRejected(_ json: String) {
        #expect(throws: BSONError.self) { try BSONDocument(extendedJSON: json) }
    }

    @Test func extendedJSONForms() throws {
        let doc = try BSONDocument(extendedJSON: """
            {"q": {"$gt": 1, "$in": [1, 2]}, "ref": {"$ref": "c", "$id": 1}, "t": {"$type": "string"},
             "legacyBin": {"$binary": "AQI=", "$type": "80"}, "legacyRe": {"$regex": "^a", "$options": "mi"},
             "reOp": {"$regex": "^a"}, "d": {"$date": "2012-12-24T12:15:30.501+01:00"},
             "big": 12345678901, "f": 1.0, "neg": -0.0, "e": 1e3, "s": "\\u00e9\\ud83d\\ude00\\n"}
            """)
        #expect(doc["q"] == .document(["$gt": 1, "$in": [1, 2]]))
        #expect(doc["ref"] == .document(["$ref": "c", "$id": 1]))
        #expect(doc["t"] == .document(["$type": "string"]))
        #expect(doc["legacyBin"] == .binary(BSONBinary(subtype: 0x80, data: [1, 2])))
        #expect(doc["legacyRe"] == .regex(BSONRegex(pattern: "^a", options: "im")))
        #expect(doc["reOp"] == .document(["$regex": "^a"]))
        #expect(doc["d"] == .datetime(1_356_351_330_501 - 3_600_000))
        #expect(doc["big"] == .int64(12_345_678_901))
        #expect(doc["f"] == .double(1))
        #expect(doc["neg"]?.doubleValue?.sign == .minus)
        #expect(doc["e"] == .double(1000))
        #expect(doc["s"] == "é😀\n")
    }

    @Test func relaxedDatesAndDoubles() throws {
        let doc: BSONDocument = ["a": .datetime(0), "b": .datetime(253_402_300_799_999), "c": .datetime(253_402_300_800_000),
                                 "d": .datetime(-1), "x": 1.0, "y": .double(.nan), "z": .int64(3)]
        let json = doc.relaxedExtendedJSON
        #expect(json.contains("\"a\" : { \"$date\" : \"1970-01-01T00:00:00Z\" }"))
        #expect(json.contains("\"b\" : { \"$date\" : \"9999-12-31T23:59:59.999Z\" }"))
        #expect(json.contains("\"c\" : { \"$date\" : { \"$numberLong\" : \"253402300800000\" } }"))
        #expect(json.contains("\"d\" : { \"$date\" : { \"$numberLong\" : \"-1\" } }"))
        #expect(json.contains("\"x\" : 1.0"))
        #expect(json.contains("\"y\" : { \"$numberDouble\" : \"NaN\" }"))
        #expect(json.contains("\"z\" : 3"))
        #expect(doc.description == json)
        let back = try BSONDocument(extendedJSON: json)
        #expect(back["b"] == .datetime(253_402_300_799_999))
        #expect(back["z"] == .int32(3))  // relaxed mode loses the int64 type, as specified
    }
}
