/// A JSON value as read, keeping object member order, duplicate keys and each number's spelling
/// (integer or not), which extended JSON needs to choose BSON types.
enum JSONNode {
    case object([(key: String, value: JSONNode)])
    case array([JSONNode])
    case string(String)
    /// The number's text, already checked against the JSON number grammar.
    case number(String)
    case bool(Bool)
    case null
}

/// A strict RFC 8259 JSON reader over UTF-8 bytes with a nesting limit.
struct JSONReader {
    private let bytes: [UInt8]
    private var index = 0
    private let maxDepth: Int

    /// Reads `text` as exactly one JSON value.
    static func parse(_ text: String, maxDepth: Int) throws(BSONError) -> JSONNode {
        var reader = JSONReader(bytes: Array(text.utf8), maxDepth: maxDepth)
        reader.skipSpace()
        let value = try reader.value(depth: 0)
        reader.skipSpace()
        guard reader.index == reader.bytes.count else { throw reader.failure("unexpected text after the JSON value") }
        return value
    }

    private init(bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    private func failure(_ message: String) -> BSONError {
        BSONError("invalid JSON: \(message)", offset: index)
    }

    private mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func consume(_ c: UInt8) throws(BSONError) {
        guard peek == c else { throw failure("expected '\(Character(Unicode.Scalar(c)))'") }
        index += 1
    }

    private mutating func value(depth: Int) throws(BSONError) -> JSONNode {
        guard depth <= maxDepth else { throw failure("nested too deeply") }
        switch peek {
        case UInt8(ascii: "{"):
            index += 1
            var members: [(key: String, value: JSONNode)] = []
            skipSpace()
            if peek == UInt8(ascii: "}") { index += 1; return .object(members) }
            while true {
                skipSpace()
                let key = try string()
                skipSpace()
                try consume(UInt8(ascii: ":"))
                skipSpace()
                members.append((key, try value(depth: depth + 1)))
                skipSpace()
                if peek == UInt8(ascii: ",") { index += 1; continue }
                try consume(UInt8(ascii: "}"))
                return .object(members)
            }
        case UInt8(ascii: "["):
            index += 1
            var items: [JSONNode] = []
            skipSpace()
            if peek == UInt8(ascii: "]") { index += 1; return .array(items) }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                if peek == UInt8(ascii: ",") { index += 1; continue }
                try consume(UInt8(ascii: "]"))
                return .array(items)
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case nil:
            throw failure("unexpected end of input")
        default:
            return .number(try number())
        }
    }

    private mutating func literal(_ word: StaticString) throws(BSONError) {
        let n = word.utf8CodeUnitCount
        guard index + n <= bytes.count else { throw failure("bad literal") }
        let matches = word.withUTF8Buffer { $0.elementsEqual(bytes[index..<(index + n)]) }
        guard matches else { throw failure("bad literal") }
        index += n
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    private mutating func number() throws(BSONError) -> String {
        let start = index
        func isDigit(_ c: UInt8?) -> Bool { c.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }
        if peek == UInt8(ascii: "-") { index += 1 }
        guard isDigit(peek) else { throw failure("bad number") }
        if peek == UInt8(ascii: "0") {
            index += 1
        } else {
            while isDigit(peek) { index += 1 }
        }
        if peek == UInt8(ascii: ".") {
            index += 1
            guard isDigit(peek) else { throw failure("bad number") }
            while isDigit(peek) { index += 1 }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard isDigit(peek) else { throw failure("bad number") }
            while isDigit(peek) { index += 1 }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func string() throws(BSONError) -> String {
        try consume(UInt8(ascii: "\""))
        var out = [UInt8]()
        var runStart = index
        while true {
            guard let c = peek else { throw failure("unterminated string") }
            if c == UInt8(ascii: "\"") {
                out.append(contentsOf: bytes[runStart..<index])
                index += 1
                break
            }
            if c < 0x20 { throw failure("control character in string") }
            if c != UInt8(ascii: "\\") {
                index += 1
                continue
            }
            out.append(contentsOf: bytes[runStart..<index])
            index += 1
            guard let e = peek else { throw failure("unterminated escape") }
            index += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard peek == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                        throw failure("unpaired surrogate")
                    }
                    index += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw failure("unpaired surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let u = Unicode.Scalar(scalar) else { throw failure("unpaired surrogate") }
                out.append(contentsOf: String(Character(u)).utf8)
            default:
                throw failure("bad escape")
            }
            runStart = index
        }
        // The input came from a Swift String, so the unescaped runs are valid UTF-8.
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func hex4() throws(BSONError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw failure("bad \\u escape") }
        var v: UInt32 = 0
        for k in 0..<4 {
            guard let n = hexNibble(bytes[index + k]) else { throw failure("bad \\u escape") }
            v = v << 4 | UInt32(n)
        }
        index += 4
        return v
    }
}
