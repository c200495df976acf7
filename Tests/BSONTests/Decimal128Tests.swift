import Foundation
import Testing
@testable import BSON

/// Decimal128 text conversion (through libbson) against the corpus and a few known values.
@Suite("Decimal128")
struct Decimal128Tests {
    /// Every corpus decimal128 case: the canonical string parses to the canonical 16 bytes and
    /// prints back as the same string.
    static let corpusCases: [ValidCase] = BSONCorpus.valid.filter { $0.file.hasPrefix("decimal128") }

    @Test("corpus text round trip", arguments: corpusCases)
    func corpusRoundTrip(_ c: ValidCase) throws {
        let json = try JSONSerialization.jsonObject(with: Data(c.canonicalExtJSON.utf8)) as? [String: [String: String]]
        let text = try #require(json?["d"]?["$numberDecimal"], "unexpected corpus shape")
        let doc = try BSONDocument(validating: try #require(bytes(fromHex: c.canonicalBSON)))
        guard case .decimal128(let stored)? = doc.pairs.first?.value else {
            Issue.record("not a decimal128")
            return
        }
        #expect(stored.description == text)
        if !c.lossy {
            let parsed = try #require(Decimal128(text))
            #expect(parsed == stored)
            #expect(parsed.bytes == Array(doc.bytes[(doc.bytes.count - 17)..<(doc.bytes.count - 1)]))
        }
    }

    @Test(arguments: [
        ("1.5E+3", "1.5E+3", 1500.0),
        ("0.001", "0.001", 0.001),
        ("-0", "-0", -0.0),
        ("12345678901234567890", "12345678901234567890", 12345678901234567890.0),
        ("Infinity", "Infinity", Double.infinity),
        ("-Infinity", "-Infinity", -Double.infinity),
    ])
    func knownValues(_ input: String, _ printed: String, _ double: Double) throws {
        let d = try #require(Decimal128(input))
        #expect(d.description == printed)
        #expect(d.doubleValue == double)
        #expect(Decimal128(d.description) == d)
        #expect(d.bytes.count == 16)
    }

    /// A common-form coefficient above 10^34 - 1 is non-canonical and means zero, keeping sign and
    /// exponent (IEEE 754-2008; found by FuzzBSON: libbson printed its 35 digits).
    @Test(arguments: [
        // coefficient 10^34 (0x1ED09BEAD87C0378D8E6400000000), exponent 0
        (UInt64(0x378D_8E64_0000_0000), UInt64(0x3040_0000_0000_0000) | 0x0001_ED09_BEAD_87C0, "0"),
        // the largest 113-bit coefficient, negative, exponent -2
        (UInt64.max, UInt64(0xB03C_0000_0000_0000) | 0x0001_FFFF_FFFF_FFFF, "-0.00"),
        // the fuzzer's input
        (UInt64(0x378D_8E63_FFFF_FFFF), UInt64(0x3041_ED7E_BEAD_87C0), "0"),
    ])
    func nonCanonicalCoefficientIsZero(_ low: UInt64, _ high: UInt64, _ printed: String) throws {
        let d = Decimal128(low: low, high: high)
        #expect(d.description == printed)
        #expect(d.doubleValue == 0)
    }

    @Test func largestCanonicalCoefficientPrintsAllDigits() throws {
        let d = Decimal128(low: 0x378D_8E63_FFFF_FFFF, high: 0x3040_0000_0000_0000 | 0x0001_ED09_BEAD_87C0)
        #expect(d.description == "9999999999999999999999999999999999")
        #expect(Decimal128(d.description) == d)
    }

    @Test func nanAndRejections() {
        #expect(Decimal128("NaN")?.doubleValue.isNaN == true)
        for bad in ["", "abc", "1..2", "1e", "--1", " 1", "1 ", "0x10", "Infinit"] {
            #expect(Decimal128(bad) == nil, "\(bad)")
        }
    }

    @Test func numericHelpers() throws {
        let v = BSONValue.decimal128(try #require(Decimal128("42")))
        #expect(v.isNumber)
        #expect(v.intValue == 42)
        #expect(v.doubleValue == 42)
        #expect(v.isTruthy)
        #expect(!BSONValue.decimal128(try #require(Decimal128("0E+10"))).isTruthy)
    }
}
