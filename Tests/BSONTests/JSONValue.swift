import Foundation

/// A parsed JSON value that keeps object key order and each number's spelling, so extended JSON
/// can be compared semantically (whitespace and escapes normalised) without losing the details
/// that carry BSON type information (key order, integer vs. fractional number spelling).
enum JSONValue: Equatable, CustomStringConvertible {
    case object([(String, JSONValue)])
    case array([JSONValue])
    case string(String)
    /// A number's text as written; compared by value and by whether it is spelled as an integer.
    case number(String)
    case bool(Bool)
    case null

    /// Parses `text` as exactly one JSON value.
    init(parsing text: String) throws {
        var parser = JSONTextParser(bytes: Array(text.utf8))
        parser.skipSpace()
        self = try parser.parseValue()
        parser.skipSpace()
        guard parser.index == parser.bytes.count else { throw JSONTextParser.Failure(at: parser.index) }
    }

    static func == (lhs: JSONValue, rhs: JSONValue) -> Bool { lhs.matches(rhs, underKey: nil) }

    /// Structural equality. Strings under `$numberDouble` are compared by the double they denote,
    /// because double-to-text conversion is platform specific (the corpus README allows this).
    func matches(_ other: JSONValue, underKey key: String?) -> Bool {
        switch (self, other) {
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            for (x, y) in zip(a, b) where x.0 != y.0 || !x.1.matches(y.1, underKey: x.0) { return false }
            return true
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.matches($1, underKey: nil) }
        case (.string(let a), .string(let b)):
            if a == b { return true }
            guard key == "$numberDouble", let x = Double(a), let y = Double(b) else { return false }
            return x.bitPattern == y.bitPattern || (x.isNaN && y.isNaN)
        case (.number(let a), .number(let b)):
            guard let x = Double(a), let y = Double(b) else { return a == b }
            return x == y && x.sign == y.sign && JSONValue.isIntegerSpelling(a) == JSONValue.isIntegerSpelling(b)
        case (.bool(let a), .bool(let b)):
            return a == b
        case (.null, .null):
            return true
        default:
            return false
        }
    }

    static func isIntegerSpelling(_ s: String) -> Bool {
        !s.contains(where: { $0 == "." || $0 == "e" || $0 == "E" })
    }

    var description: String {
        switch self {
        case .object(let members):
            return "{" + members.map { "\(JSONValue.string($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
        case .array(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .string(let s): return "\"" + s.unicodeScalars.map { $0.value < 0x20 ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined() + "\""
        case .number(let n): return n
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        }
    }
}

/// A small recursive-descent JSON parser over UTF-8 bytes.
struct JSONTextParser {
    struct Failure: Error, CustomStringConvertible {
        let at: Int
        var description: String { "invalid JSON at byte \(at)" }
    }

    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func skipSpace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    mutating func expect(_ c: UInt8) throws {
        guard index < bytes.count, bytes[index] == c else { throw Failure(at: index) }
        index += 1
    }

    mutating func parseValue() throws -> JSONValue {
        guard index < bytes.count else { throw Failure(at: index) }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            var members: [(String, JSONValue)] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
            while true {
                skipSpace()
                let key = try parseString()
                skipSpace()
                try expect(UInt8(ascii: ":"))
                skipSpace()
                members.append((key, try parseValue()))
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                try expect(UInt8(ascii: "}"))
                return .object(members)
            }
        case UInt8(ascii: "["):
            index += 1
            var items: [JSONValue] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
            while true {
                skipSpace()
                items.append(try parseValue())
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                try expect(UInt8(ascii: "]"))
                return .array(items)
            }
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "t"):
            try literal("true"); return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false"); return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null"); return .null
        default:
            let start = index
            while index < bytes.count, "+-0123456789.eE".utf8.contains(bytes[index]) { index += 1 }
            guard index > start else { throw Failure(at: index) }
            return .number(String(decoding: bytes[start..<index], as: UTF8.self))
        }
    }

    mutating func literal(_ word: String) throws {
        for c in word.utf8 { try expect(c) }
    }

    mutating func parseString() throws -> String {
        try expect(UInt8(ascii: "\""))
        var scalars = String.UnicodeScalarView()
        var raw: [UInt8] = []
        func flush() {
            scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
            raw.removeAll()
        }
        while true {
            guard index < bytes.count else { throw Failure(at: index) }
            let c = bytes[index]
            index += 1
            if c == UInt8(ascii: "\"") { break }
            guard c == UInt8(ascii: "\\") else { raw.append(c); continue }
            guard index < bytes.count else { throw Failure(at: index) }
            let e = bytes[index]
            index += 1
            switch e {
            case UInt8(ascii: "n"): raw.append(0x0A)
            case UInt8(ascii: "t"): raw.append(0x09)
            case UInt8(ascii: "r"): raw.append(0x0D)
            case UInt8(ascii: "b"): raw.append(0x08)
            case UInt8(ascii: "f"): raw.append(0x0C)
            case UInt8(ascii: "u"):
                var unit = try hex4()
                if (0xD800..<0xDC00).contains(unit), index + 1 < bytes.count,
                   bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                    index += 2
                    let low = try hex4()
                    unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                }
                flush()
                scalars.append(Unicode.Scalar(unit) ?? "\u{FFFD}")
            default: raw.append(e)
            }
        }
        flush()
        return String(scalars)
    }

    mutating func hex4() throws -> UInt32 {
        guard index + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16) else {
            throw Failure(at: index)
        }
        index += 4
        return v
    }
}
