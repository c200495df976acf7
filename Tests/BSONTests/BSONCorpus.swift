import BSON
import Foundation
import Testing

/// Loads the official BSON corpus from `../shared/conformance/bson-corpus` next to the checkout.
enum BSONCorpus {
    /// The corpus folder, resolved from this file's location (Tests/BSONTests/… → package root).
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // BSONTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .appendingPathComponent("../shared/conformance/bson-corpus")
        .standardizedFileURL

    /// One corpus file, split into its cases.
    struct File: Sendable {
        let name: String
        let readable: Bool
        let valid: [ValidCase]
        let decodeErrors: [DecodeErrorCase]
        let parseErrors: [ParseErrorCase]

        init(name: String, json: [String: Any]?) {
            self.name = name
            readable = json != nil
            let json = json ?? [:]
            let bsonType = json["bson_type"] as? String ?? ""
            func section(_ key: String) -> [[String: Any]] { json[key] as? [[String: Any]] ?? [] }
            valid = section("valid").map { ValidCase(file: name, fields: $0) }
            decodeErrors = section("decodeErrors").map {
                DecodeErrorCase(file: name, description: $0["description"] as? String ?? "?", hex: $0["bson"] as? String ?? "")
            }
            parseErrors = section("parseErrors").map {
                ParseErrorCase(file: name, bsonType: bsonType, description: $0["description"] as? String ?? "?",
                               string: $0["string"] as? String ?? "")
            }
        }
    }

    /// Every `*.json` file in the corpus, sorted by name; empty when the folder is missing
    /// (the `corpusIsPresent` test then fails loudly).
    static let files: [File] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().map { name in
            let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path)
            let json = data.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
            return File(name: name, json: json)
        }
    }()

    static let valid: [ValidCase] = files.flatMap(\.valid)
    static let decodeErrors: [DecodeErrorCase] = files.flatMap(\.decodeErrors)
    static let parseErrors: [ParseErrorCase] = files.flatMap(\.parseErrors)
}

/// A `valid` case: canonical bytes and their extended JSON forms.
struct ValidCase: Sendable, CustomTestStringConvertible {
    let file: String
    let description: String
    let canonicalBSON: String
    let canonicalExtJSON: String
    let relaxedExtJSON: String?
    let degenerateBSON: String?
    let degenerateExtJSON: String?
    let lossy: Bool

    init(file: String, fields: [String: Any]) {
        self.file = file
        description = fields["description"] as? String ?? "?"
        canonicalBSON = fields["canonical_bson"] as? String ?? ""
        canonicalExtJSON = fields["canonical_extjson"] as? String ?? ""
        relaxedExtJSON = fields["relaxed_extjson"] as? String
        degenerateBSON = fields["degenerate_bson"] as? String
        degenerateExtJSON = fields["degenerate_extjson"] as? String
        lossy = fields["lossy"] as? Bool ?? false
    }

    var id: String { "\(file): \(description)" }
    var testDescription: String { id }
}

/// A `decodeErrors` case: bytes every reader must reject.
struct DecodeErrorCase: Sendable, CustomTestStringConvertible {
    let file: String
    let description: String
    let hex: String
    var id: String { "\(file): \(description)" }
    var testDescription: String { id }
}

/// A `parseErrors` case: text every parser of its kind must reject.
struct ParseErrorCase: Sendable, CustomTestStringConvertible {
    let file: String
    let bsonType: String
    let description: String
    let string: String
    var id: String { "\(file): \(description)" }
    var testDescription: String { id }
}

/// Decodes hexadecimal text (either case) into bytes; nil on odd length or a non-hex digit.
func bytes(fromHex hex: String) -> [UInt8]? { hexBytes(hex) }
