/// A small JSON writer for the gateway's listings and errors (no Foundation, exact output).
public indirect enum JSONText: Sendable {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case null
    /// Already-encoded JSON (e.g. an id's extended JSON).
    case raw(String)
    case array([JSONText])
    case object([(String, JSONText)])

    /// An integer value.
    public static func int(_ v: Int) -> JSONText { .int(Int64(v)) }

    /// The encoded text.
    public var text: String {
        var out = ""
        write(into: &out)
        return out
    }

    /// `{...}` of the pairs.
    public static func encode(_ pairs: [(String, JSONText)]) -> String { JSONText.object(pairs).text }

    func write(into out: inout String) {
        switch self {
        case .string(let s): JSONText.quote(s, into: &out)
        case .int(let v): out += String(v)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .raw(let r): out += r
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(into: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (i, (k, v)) in pairs.enumerated() {
                if i > 0 { out += "," }
                JSONText.quote(k, into: &out)
                out += ":"
                v.write(into: &out)
            }
            out += "}"
        }
    }

    static func quote(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
