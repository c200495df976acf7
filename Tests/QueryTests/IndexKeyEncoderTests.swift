import BSON
import TestSupport
import Testing
@testable import Query

enum RandomBSON {
    static let edgeNumbers: [BSONValue] = [
        .int32(0), .int32(1), .int32(-1), .int32(.max), .int32(.min),
        .int64(0), .int64(1), .int64(-1), .int64(.max), .int64(.min), .int64(.min + 1), .int64(.max - 1),
        .int64(1 << 53), .int64((1 << 53) + 1), .int64((1 << 53) - 1), .int64(-(1 << 53) - 1),
        .double(0), .double(-0.0), .double(1), .double(-1), .double(0.5), .double(-0.5),
        .double(9007199254740992), .double(9007199254740994), .double(9223372036854775808), .double(-9223372036854775808),
        .double(1e300), .double(-1e300), .double(.leastNonzeroMagnitude), .double(-.leastNonzeroMagnitude),
        .double(.leastNormalMagnitude), .double(.greatestFiniteMagnitude), .double(-.greatestFiniteMagnitude),
        .double(.infinity), .double(-.infinity), .double(.nan), .double(1.0000000000000002), .double(0.1),
    ]

    static let decimalTexts = ["0", "-0", "1", "1.0", "-1", "0.1", "1E+3", "12345678901234567890", "-9223372036854775808",
                               "9223372036854775807", "9223372036854775808", "1.5", "NaN", "Infinity", "-Infinity", "1E-400", "3.000"]

    static func number(_ g: inout SplitMix64) -> BSONValue {
        switch Int.random(in: 0..<7, using: &g) {
        case 0: return edgeNumbers.randomElement(using: &g) ?? .null
        case 1: return .int32(Int32.random(in: -100...100, using: &g))
        case 2: return .int64(Int64.random(in: .min ... .max, using: &g))
        case 3: return .double(Double(Int.random(in: -100...100, using: &g)) / 4)
        case 4: return .double(Double(bitPattern: g.next()))
        case 5: return .decimal128(Decimal128(decimalTexts.randomElement(using: &g) ?? "0") ?? Decimal128(low: 0, high: 0))
        default: return .int64(Int64.random(in: -(1 << 60) ... (1 << 60), using: &g))
        }
    }

    static func string(_ g: inout SplitMix64) -> String {
        let alphabet: [String] = ["", "a", "b", "A", "\u{0}", "é", "e\u{301}", "z", "ab", "\u{7f}", "\u{10000}"]
        var s = ""
        for _ in 0..<Int.random(in: 0...3, using: &g) { s += alphabet.randomElement(using: &g) ?? "" }
        return s
    }

    static func value(_ g: inout SplitMix64, depth: Int = 0) -> BSONValue {
        switch Int.random(in: 0..<(depth > 1 ? 16 : 18), using: &g) {
        case 0: return .minKey
        case 1: return .maxKey
        case 2: return .null
        case 3: return .undefined
        case 4, 5, 6: return number(&g)
        case 7: return .string(string(&g))
        case 8: return .bool(Bool.random(using: &g))
        case 9: return .datetime(Int64.random(in: -1000...1000, using: &g))
        case 10: return .timestamp(BSONTimestamp(time: UInt32.random(in: 0...3, using: &g), increment: UInt32.random(in: 0...3, using: &g)))
        case 11:
            let n = Int.random(in: 0...2, using: &g)
            return .binary(BSONBinary(subtype: UInt8.random(in: 0...1, using: &g), data: (0..<n).map { _ in UInt8.random(in: 0...2, using: &g) }))
        case 12: return .objectId(ObjectId(bytes: (0..<12).map { _ in UInt8.random(in: 0...1, using: &g) }) ?? ObjectId())
        case 13: return .regex(BSONRegex(pattern: string(&g).replacingNul(), options: ["", "i", "im"].randomElement(using: &g) ?? ""))
        case 14: return .symbol(string(&g))
        case 15: return .javascript(string(&g))
        case 16:
            var d = BSONDocument()
            for _ in 0..<Int.random(in: 0...2, using: &g) {
                d.append(["a", "b", "ab"].randomElement(using: &g) ?? "a", value(&g, depth: depth + 1))
            }
            return .document(d)
        default:
            return .array((0..<Int.random(in: 0...2, using: &g)).map { _ in value(&g, depth: depth + 1) })
        }
    }
}

extension String {
    func replacingNul() -> String { String(unicodeScalars.filter { $0 != "\u{0}" }) }
}

@Suite struct IndexKeyEncoderTests {
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8])
    func randomPairsAgreeWithComparator(seed: UInt64) {
        var g = SplitMix64(state: seed)
        let values = (0..<150).map { _ in RandomBSON.value(&g) }
        var failures = 0
        for a in values {
            let ea = IndexKeyEncoder.encode(a)
            for b in values {
                let expected = sign(compareBSON(a, b))
                if sign(memcmp(ea, IndexKeyEncoder.encode(b))) != expected {
                    failures += 1
                    if failures < 5 { Issue.record("\(a) vs \(b): compare \(expected)") }
                }
            }
        }
        #expect(failures == 0)
    }

    @Test func numericEdgesAgree() {
        var all = RandomBSON.edgeNumbers
        all += RandomBSON.decimalTexts.compactMap { Decimal128($0) }.map { .decimal128($0) }
        for a in all {
            for b in all {
                #expect(sign(memcmp(IndexKeyEncoder.encode(a), IndexKeyEncoder.encode(b))) == sign(compareBSON(a, b)), "\(a) vs \(b)")
            }
        }
    }

    static let equalAcrossTypes: [[BSONValue]] = [
        [.int32(1), .int64(1), .double(1.0), .decimal128(Decimal128("1") ?? Decimal128(low: 0, high: 0))],
        [.int32(0), .int64(0), .double(0), .double(-0.0)],
        [.int64(1 << 40), .double(Double(1 << 40))],
        [.string("x"), .symbol("x")],
        [.array([.int32(1)]), .array([.double(1)])],
        [.document(["a": .int32(2)]), .document(["a": .int64(2)])],
    ]

    @Test(arguments: equalAcrossTypes)
    func equalValuesEncodeIdentically(_ group: [BSONValue]) {
        let first = IndexKeyEncoder.encode(group[0])
        for v in group.dropFirst() { #expect(IndexKeyEncoder.encode(v) == first, "\(v)") }
    }

    @Test(arguments: [11, 12, 13, 14])
    func compoundKeysWithDirections(seed: UInt64) {
        var g = SplitMix64(state: seed)
        let dirs = [Bool.random(using: &g), Bool.random(using: &g), true]
        let keys = (0..<80).map { _ in (0..<3).map { _ in RandomBSON.value(&g, depth: 1) } }
        for a in keys {
            let ea = IndexKeyEncoder.encode(a, descending: dirs)
            for b in keys {
                var expected = 0
                for i in 0..<3 {
                    let c = sign(compareBSON(a[i], b[i]))
                    if c != 0 { expected = dirs[i] ? -c : c; break }
                }
                #expect(sign(memcmp(ea, IndexKeyEncoder.encode(b, descending: dirs))) == expected)
            }
        }
    }

    @Test func numberLayoutIsDocumented() {
        #expect(IndexKeyEncoder.encode(.int32(0)) == [0x10, 0x04])
        #expect(IndexKeyEncoder.encode(.double(.nan)) == [0x10, 0x01])
        #expect(IndexKeyEncoder.encode(.double(-.infinity)) == [0x10, 0x02])
        #expect(IndexKeyEncoder.encode(.double(.infinity)) == [0x10, 0x06])
        // 1 = 1.0 × 2^0: exponent 1100 = 0x044C, no fraction bits
        #expect(IndexKeyEncoder.encode(.int32(1)) == [0x10, 0x05, 0x04, 0x4C, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(IndexKeyEncoder.encode(.string("a\u{0}")) == [0x14, 0x61, 0x00, 0xFF, 0x00, 0x00])
        #expect(IndexKeyEncoder.encode(.null) == [IndexKeyEncoder.Tag.null])
    }

    @Test func stringPrefixRangeCoversExtensions() {
        let r = IndexKeyEncoder.stringPrefixRange("ab")
        for s in ["ab", "ab\u{0}", "abc", "ab\u{10FFFF}", "abzzz"] {
            let e = IndexKeyEncoder.encode(.string(s))
            #expect(memcmp(e, r.lower) >= 0 && memcmp(e, r.upperExclusive) < 0, "\(s)")
        }
        for s in ["a", "aa", "ac", "b", ""] {
            let e = IndexKeyEncoder.encode(.string(s))
            #expect(!(memcmp(e, r.lower) >= 0 && memcmp(e, r.upperExclusive) < 0), "\(s)")
        }
    }
}

@Suite struct IndexKeysTests {
    @Test func singleValuedDocument() throws {
        let keys = try IndexKeyEncoder.keys(for: J("{\"files_id\": 7, \"n\": 3}"), paths: ["files_id", "n"])
        #expect(keys == [IndexKeyEncoder.encode([.int32(7), .int32(3)])])
    }

    @Test func missingIndexesAsNull() throws {
        let keys = try IndexKeyEncoder.keys(for: J("{\"a\": 1}"), paths: ["b"])
        #expect(keys == [IndexKeyEncoder.encode(.null)])
    }

    @Test func multikeyAndDedup() throws {
        let keys = try IndexKeyEncoder.keys(for: J("{\"a\": [3, 1, 3.0], \"b\": \"x\"}"), paths: ["a", "b"], descending: [false, true])
        #expect(keys.count == 2)
        #expect(keys.first == IndexKeyEncoder.encode([.int32(1), .string("x")], descending: [false, true]))
        let empty = try IndexKeyEncoder.keys(for: J("{\"a\": []}"), paths: ["a"])
        #expect(empty == [IndexKeyEncoder.encode(.undefined)])
        let nested = try IndexKeyEncoder.keys(for: J("{\"a\": [{\"b\": 1}, {\"b\": 2}, {}]}"), paths: ["a.b"])
        #expect(nested.count == 3)
    }

    @Test func parallelArraysRejected() throws {
        let doc = try J("{\"a\": [1], \"b\": [2]}")
        let err = queryError { _ = try IndexKeyEncoder.keys(for: doc, paths: ["a", "b"]) }
        #expect(err?.code == 171)
    }

    @Test func equalityValueHelper() throws {
        #expect(try Filter(J("{\"filename\": \"x\"}")).equalityValue(for: "filename") == .string("x"))
        #expect(try Filter(J("{\"n\": {\"$gt\": 1}}")).equalityValue(for: "n") == nil)
    }
}
