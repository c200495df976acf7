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
