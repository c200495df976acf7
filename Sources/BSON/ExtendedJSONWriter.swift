/// Writes MongoDB Extended JSON 2.0 (canonical or relaxed) from BSON values, in the layout
/// libbson uses (`{ "k" : v, … }`). Implemented in Swift because libbson 1.23 prints dates after
/// year 9999 as ISO strings in relaxed mode, which the specification forbids.
struct ExtendedJSONWriter {
    /// Canonical (every type explicit) or relaxed (plain JSON numbers and ISO dates where lossless).
    let canonical: Bool
    /// The UTF-8 output.
    private(set) var out: [UInt8] = []

    init(canonical: Bool) {
        self.canonical = canonical
        out.reserveCapacity(256)
    }

    mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    mutating func raw(_ s: String) {
        out.append(contentsOf: s.utf8)
    }

    /// Writes a document's fields in order.
    mutating func write(document: BSONDocument) {
        var first = true
        for e in document.elements {
            raw(first ? "{ " : ", ")
            first = false
            string(e.key)
            raw(" : ")
            write(e.value)
        }
        raw(first ? "{ }" : " }")
    }

    /// Writes one value.
    mutating func write(_ value: BSONValue) {
        switch value {
        case .double(let d):
            if !canonical && d.isFinite {
                raw(d.description)
            } else {
                wrapper("$numberDouble") { $0.string(ExtendedJSONWriter.doubleText(d)) }
            }
        case .string(let s): string(s)
        case .document(let d): write(document: d)
        case .array(let items):
            var first = true
            for v in items {
                raw(first ? "[ " : ", ")
                first = false
                write(v)
            }
            raw(first ? "[ ]" : " ]")
        case .binary(let b):
            wrapper("$binary") {
                $0.raw("{ \"base64\" : ")
                $0.string(base64Encode(b.data))
                $0.raw(", \"subType\" : ")
                $0.string(hexString([b.subtype]))
                $0.raw(" }")
            }
        case .undefined: raw("{ \"$undefined\" : true }")
        case .objectId(let id): wrapper("$oid") { $0.string(id.hex) }
        case .bool(let b): raw(b ? "true" : "false")
        case .datetime(let ms):
            if !canonical, (0...ExtendedJSONWriter.maxISODate).contains(ms) {
                wrapper("$date") { $0.string(isoDate(milliseconds: ms)) }
            } else {
                wrapper("$date") { w in w.wrapper("$numberLong") { $0.string(String(ms)) } }
            }
        case .null: raw("null")
        case .regex(let r):
            wrapper("$regularExpression") {
                $0.raw("{ \"pattern\" : ")
                $0.string(r.pattern)
                $0.raw(", \"options\" : ")
                $0.string(String(r.options.sorted()))
                $0.raw(" }")
            }
        case .dbPointer(let p):
            wrapper("$dbPointer") {
                $0.raw("{ \"$ref\" : ")
                $0.string(p.ref)
                $0.raw(", \"$id\" : ")
                $0.write(.objectId(p.id))
                $0.raw(" }")
            }
        case .javascript(let code): wrapper("$code") { $0.string(code) }
        case .symbol(let s): wrapper("$symbol") { $0.string(s) }
        case .javascriptWithScope(let c):
            raw("{ \"$code\" : ")
            string(c.code)
            raw(", \"$scope\" : ")
            write(document: c.scope)
            raw(" }")
        case .int32(let v):
            if canonical { wrapper("$numberInt") { $0.string(String(v)) } } else { raw(String(v)) }
        case .timestamp(let t):
            raw("{ \"$timestamp\" : { \"t\" : \(t.time), \"i\" : \(t.increment) } }")
        case .int64(let v):
            if canonical { wrapper("$numberLong") { $0.string(String(v)) } } else { raw(String(v)) }
        case .decimal128(let d): wrapper("$numberDecimal") { $0.string(d.description) }
        case .minKey: raw("{ \"$minKey\" : 1 }")
        case .maxKey: raw("{ \"$maxKey\" : 1 }")
        }
    }

    /// The last millisecond relaxed mode prints as an ISO-8601 string (9999-12-31T23:59:59.999Z).
    static let maxISODate: Int64 = 253_402_300_799_999

    /// A double's text for `$numberDouble`: the shortest form that reads back exactly.
    static func doubleText(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        return d.description
    }

    mutating func wrapper(_ key: StaticString, _ body: (inout ExtendedJSONWriter) -> Void) {
        raw("{ \"")
        raw(key)
        raw("\" : ")
        body(&self)
        raw(" }")
    }

    /// Writes a JSON string literal, escaping quotes, backslashes and control characters.
    mutating func string(_ s: String) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0x08: raw("\\b")
            case 0x0C: raw("\\f")
            case 0..<0x20:
                raw("\\u00")
                out.append(contentsOf: hexString([b]).utf8)
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// Standard base64 with padding.
func base64Encode(_ data: [UInt8]) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out = [UInt8]()
    out.reserveCapacity((data.count + 2) / 3 * 4)
    var i = 0
    while i + 3 <= data.count {
        let n = UInt32(data[i]) << 16 | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2])
        for shift in [18, 12, 6, 0] { out.append(alphabet[Int((n >> UInt32(shift)) & 63)]) }
        i += 3
    }
    let rest = data.count - i
    if rest > 0 {
        let n = UInt32(data[i]) << 16 | (rest == 2 ? UInt32(data[i + 1]) << 8 : 0)
        out.append(alphabet[Int((n >> 18) & 63)])
        out.append(alphabet[Int((n >> 12) & 63)])
        out.append(rest == 2 ? alphabet[Int((n >> 6) & 63)] : UInt8(ascii: "="))
        out.append(UInt8(ascii: "="))
    }
    return String(decoding: out, as: UTF8.self)
}

/// Decodes padded standard base64; nil for anything else.
func base64Decode(_ text: String) -> [UInt8]? {
    let chars = Array(text.utf8)
    guard chars.count % 4 == 0 else { return nil }
    func sextet(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return UInt32(c - UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return UInt32(c - UInt8(ascii: "a") + 26)
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0") + 52)
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }
    var out = [UInt8]()
    out.reserveCapacity(chars.count / 4 * 3)
    var i = 0
    while i < chars.count {
        let last = i + 4 == chars.count
        let pad = last ? (chars[i + 3] == UInt8(ascii: "=") ? (chars[i + 2] == UInt8(ascii: "=") ? 2 : 1) : 0) : 0
        var n: UInt32 = 0
        for k in 0..<(4 - pad) {
            guard let v = sextet(chars[i + k]) else { return nil }
            n = n << 6 | v
        }
        n <<= UInt32(6 * pad)
        out.append(UInt8(truncatingIfNeeded: n >> 16))
        if pad < 2 { out.append(UInt8(truncatingIfNeeded: n >> 8)) }
        if pad < 1 { out.append(UInt8(truncatingIfNeeded: n)) }
        i += 4
    }
    return out
}

/// `YYYY-MM-DDTHH:MM:SS[.mmm]Z` for milliseconds since the epoch (years 0…9999).
func isoDate(milliseconds ms: Int64) -> String {
    let dayMs: Int64 = 86_400_000
    var days = ms / dayMs
    var rem = ms % dayMs
    if rem < 0 { rem += dayMs; days -= 1 }
    let (y, m, d) = civilDate(fromDays: days)
    func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    var text = "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(rem / 3_600_000, 2)):\(pad(rem / 60_000 % 60, 2)):\(pad(rem / 1000 % 60, 2))"
    if rem % 1000 != 0 { text += "." + pad(rem % 1000, 3) }
    return text + "Z"
}

/// Proleptic Gregorian (year, month, day) for days since 1970-01-01.
func civilDate(fromDays z0: Int64) -> (Int64, Int64, Int64) {
    let z = z0 + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
}

/// Days since 1970-01-01 for a proleptic Gregorian date.
func days(fromCivilYear y0: Int64, month m: Int64, day d: Int64) -> Int64 {
    let y = m <= 2 ? y0 - 1 : y0
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
}
