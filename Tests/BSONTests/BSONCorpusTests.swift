import Foundation
import Testing
@testable import BSON

/// Runs the official BSON corpus (`../shared/conformance/bson-corpus`) against the BSON module.
///
/// Assertions per `valid` case (names in brackets are the aspects used in ``knownDeviations``):
/// - [decode] `canonical_bson` validates;
/// - [native] decoding every value into ``BSONValue`` and encoding again gives the canonical bytes;
/// - [canonical] `canonicalExtendedJSON` equals `canonical_extjson`;
/// - [relaxed] `relaxedExtendedJSON` equals `relaxed_extjson` (when present);
/// - [degenerate] `degenerate_bson` validates, re-encodes to the canonical bytes and prints `canonical_extjson`;
/// - [parse] `init(extendedJSON: canonical_extjson)` gives the canonical bytes (unless `lossy`);
/// - [parseDegenerate] `init(extendedJSON: degenerate_extjson)` gives the canonical bytes (unless `lossy`);
/// - [parseRelaxed] `relaxed_extjson` parses and prints itself again in relaxed form.
///
/// JSON is compared as parsed values (key order kept, whitespace and escapes normalised, numbers by
/// value and integer/fraction spelling); `$numberDouble` strings are compared by the double they
/// denote, since double-to-text conversion is platform specific (allowed by the corpus README).
/// `converted_bson` / `converted_extjson` of deprecated types are not checked: we keep deprecated
/// types as they are, which the corpus README allows.
@Suite("BSON corpus")
struct BSONCorpusTests {
    /// Corpus assertions that cannot hold, keyed by `"<file>: <description> [<aspect>]"`, with the reason.
    /// Each is run inside `withKnownIssue`, so one that starts passing is reported and must be removed.
    static let knownDeviations: [String: String] = [:]

    @Test("corpus folder is present and complete")
    func corpusIsPresent() {
        #expect(FileManager.default.fileExists(atPath: BSONCorpus.directory.path),
                "BSON corpus missing at \(BSONCorpus.directory.path)")
        #expect(BSONCorpus.files.count >= 30, "expected the 31 corpus files, found \(BSONCorpus.files.count)")
        #expect(BSONCorpus.files.allSatisfy { $0.readable }, "a corpus file did not parse as JSON")
        #expect(BSONCorpus.valid.count > 700)
        #expect(BSONCorpus.decodeErrors.count > 50)
        #expect(BSONCorpus.parseErrors.count > 150)
    }

    @Test("valid cases", arguments: BSONCorpus.valid)
    func valid(_ c: ValidCase) throws {
        let canonical = try #require(bytes(fromHex: c.canonicalBSON), "bad hex in corpus")

        var decoded: BSONDocument?
        check("decode", c) {
            #expect(throws: Never.self) { decoded = try BSONDocument(validating: canonical) }
        }
        guard let doc = decoded else { return }

        check("native", c) {
            #expect(hexString(rebuiltThroughValues(doc).bytes) == hexString(canonical))
            #expect(doc.count == doc.pairs.count)
        }
        check("canonical", c) {
            try expectJSON(doc.canonicalExtendedJSON, equals: c.canonicalExtJSON)
        }
        if let relaxed = c.relaxedExtJSON {
            check("relaxed", c) {
                try expectJSON(doc.relaxedExtendedJSON, equals: relaxed)
            }
        }
        if let degenerateHex = c.degenerateBSON {
            check("degenerate", c) {
                let degenerate = try #require(bytes(fromHex: degenerateHex), "bad hex in corpus")
                let d = try BSONDocument(validating: degenerate)
                #expect(hexString(rebuiltThroughValues(d).bytes) == hexString(canonical))
                try expectJSON(d.canonicalExtendedJSON, equals: c.canonicalExtJSON)
            }
        }
        if !c.lossy {
            check("parse", c) {
                let parsed = try BSONDocument(extendedJSON: c.canonicalExtJSON)
                #expect(hexString(parsed.bytes) == hexString(canonical))
            }
            if let degenerate = c.degenerateExtJSON {
                check("parseDegenerate", c) {
                    let parsed = try BSONDocument(extendedJSON: degenerate)
                    #expect(hexString(parsed.bytes) == hexString(canonical))
                }
            }
        }
        if let relaxed = c.relaxedExtJSON {
            check("parseRelaxed", c) {
                let parsed = try BSONDocument(extendedJSON: relaxed)
                try expectJSON(parsed.relaxedExtendedJSON, equals: relaxed)
            }
        }
    }

    @Test("decodeErrors are rejected", arguments: BSONCorpus.decodeErrors)
    func decodeError(_ c: DecodeErrorCase) throws {
        let data = try #require(bytes(fromHex: c.hex), "bad hex in corpus")
        #expect(throws: BSONError.self) { try BSONDocument(validating: data) }
        // Readers over unvalidated bytes must not crash either.
        let raw = BSONDocument(trusted: data)
        _ = raw.pairs
        _ = raw.keys
        _ = raw.value(atPath: "a.b")
    }

    /// `parseErrors` assertions. Every case is asserted:
    /// - decimal128 files (type 0x13): the string is a Decimal128 literal: `Decimal128(String)` must
    ///   return nil and `{"d": {"$numberDecimal": string}}` must not parse as extended JSON;
    /// - top.json (0x00) and binary.json (0x05): the string is an extended JSON document that
    ///   `init(extendedJSON:)` must reject (and that a plain JSON parser accepts, proving the case
    ///   tests extended JSON rules rather than JSON syntax).
    @Test("parseErrors are rejected", arguments: BSONCorpus.parseErrors)
    func parseError(_ c: ParseErrorCase) {
        let reason = Self.knownDeviations["\(c.id) [parse]"]
        withKnownIssue(Comment(rawValue: reason ?? ""), isIntermittent: false) {
            if c.bsonType == "0x13" {
                #expect(Decimal128(c.string) == nil, "Decimal128(\"\(c.string)\") accepted")
                let escaped = c.string.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                #expect(throws: BSONError.self) { try BSONDocument(extendedJSON: "{\"d\": {\"$numberDecimal\": \"\(escaped)\"}}") }
            } else {
                #expect(throws: Never.self) { _ = try JSONValue(parsing: c.string) }
                #expect(throws: BSONError.self) { try BSONDocument(extendedJSON: c.string) }
            }
        } when: {
            reason != nil
        }
    }

    // MARK: helpers

    func check(_ aspect: String, _ c: ValidCase, _ body: () throws -> Void) {
        let reason = Self.knownDeviations["\(c.id) [\(aspect)]"]
        withKnownIssue(Comment(rawValue: reason ?? ""), isIntermittent: false) {
            do {
                try body()
            } catch {
                Issue.record(error, "[\(aspect)] \(c.id)")
            }
        } when: {
            reason != nil
        }
    }

    func expectJSON(_ actual: String, equals expected: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let a = try JSONValue(parsing: actual)
        let e = try JSONValue(parsing: expected)
        #expect(a == e, "got \(actual)\nwant \(expected)", sourceLocation: sourceLocation)
    }
}

/// Decodes every value into ``BSONValue`` (recursively, including sub-documents and scopes) and
/// builds the document again from those values.
func rebuiltThroughValues(_ doc: BSONDocument) -> BSONDocument {
    BSONDocument(doc.map { ($0.key, rebuiltThroughValues($0.value)) })
}

func rebuiltThroughValues(_ value: BSONValue) -> BSONValue {
    switch value {
    case .document(let d): return .document(rebuiltThroughValues(d))
    case .array(let items): return .array(items.map(rebuiltThroughValues))
    case .javascriptWithScope(let c):
        return .javascriptWithScope(BSONCodeWithScope(code: c.code, scope: rebuiltThroughValues(c.scope)))
    default: return value
    }
}
