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
