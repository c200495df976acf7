import BSON

/// An order-preserving, byte-comparable encoding of BSON values for index keys.
///
/// For any two values, `memcmp` order of their encodings equals ``compareBSON(_:_:)`` order, and
/// values that compare equal (`1`, `1.0`, `NumberLong(1)`) encode to identical bytes, so the
/// encodings can serve directly as SQLite BLOB index and unique-index columns.
///
/// Layout: one tag byte per canonical type class (ascending in class order, all ≥ 0x05), then a
/// body that is *prefix-free* (no encoding is a proper prefix of another), which makes the
/// concatenation of several encodings (a compound key) compare field by field, and lets a
/// descending field be stored with every byte inverted.
///
/// Numbers (see ``NumericValue`` for decimal128 precision): after the tag, one sub-tag —
/// 0x01 NaN, 0x02 −∞, 0x03 negative, 0x04 zero, 0x05 positive, 0x06 +∞. A finite non-zero value
/// `|v| = 1.f × 2^E` follows as E + 1100 in two big-endian bytes and then the bits of `f`
/// left-aligned in eight bytes (at most 63 of them, enough for any int64 and any double, so the
/// encoding is exact: int64 beyond 2^53 stays distinct from its neighbours). Negative values
/// store those ten bytes inverted.
///
/// Strings, symbols, keys, regex parts: UTF-8 with 0x00 written as 0x00 0xFF, ended by 0x00 0x00.
/// Documents: per field, the value's tag, the escaped key, the value's body; ended by 0x00.
/// Arrays: per element, tag and body; ended by 0x00. Binary: 4-byte big-endian length, subtype,
/// bytes. Dates: int64 with the sign bit flipped, big-endian. Timestamps: uint64 big-endian.
public enum IndexKeyEncoder {
    /// Tag bytes by type class (exposed so callers can build type-bracket ranges).
    public enum Tag {
        public static let minKey: UInt8 = 0x05
        public static let undefined: UInt8 = 0x08
        public static let null: UInt8 = 0x0A
        public static let number: UInt8 = 0x10
        public static let string: UInt8 = 0x14
        public static let document: UInt8 = 0x18
        public static let array: UInt8 = 0x1C
        public static let binary: UInt8 = 0x20
        public static let objectId: UInt8 = 0x24
        public static let bool: UInt8 = 0x28
        public static let date: UInt8 = 0x2C
        public static let timestamp: UInt8 = 0x2E
        public static let regex: UInt8 = 0x30
        public static let dbPointer: UInt8 = 0x34
        public static let javascript: UInt8 = 0x38
        public static let javascriptWithScope: UInt8 = 0x3C
        public static let maxKey: UInt8 = 0xF0
    }

    /// The tag byte of a value's type class.
    public static func tag(of value: BSONValue) -> UInt8 {
        switch value {
        case .minKey: return Tag.minKey
        case .undefined: return Tag.undefined
        case .null: return Tag.null
        case .double, .int32, .int64, .decimal128: return Tag.number
        case .string, .symbol: return Tag.string
        case .document: return Tag.document
        case .array: return Tag.array
        case .binary: return Tag.binary
        case .objectId: return Tag.objectId
        case .bool: return Tag.bool
        case .datetime: return Tag.date
        case .timestamp: return Tag.timestamp
        case .regex: return Tag.regex
        case .dbPointer: return Tag.dbPointer
        case .javascript: return Tag.javascript
        case .javascriptWithScope: return Tag.javascriptWithScope
        case .maxKey: return Tag.maxKey
        }
    }

    /// The encoding of one value (ascending).
    public static func encode(_ value: BSONValue) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(16)
        append(value, to: &out)
        return out
    }

    /// The encoding of a compound key: each value in turn, inverted where `descending[i]` is true
    /// (missing entries of `descending` mean ascending).
    public static func encode(_ values: [BSONValue], descending: [Bool] = []) -> [UInt8] {
        var out = [UInt8]()
        for (i, v) in values.enumerated() {
            let start = out.count
            append(v, to: &out)
            if i < descending.count && descending[i] {
                for j in start..<out.count { out[j] = ~out[j] }
            }
        }
        return out
    }

    /// Appends the encoding of `value` (tag and body) to `out`.
    public static func append(_ value: BSONValue, to out: inout [UInt8]) {
        out.append(tag(of: value))
        appendBody(value, to: &out)
    }

    static func appendBody(_ value: BSONValue, to out: inout [UInt8]) {
        switch value {
        case .minKey, .maxKey, .null, .undefined: break
        case .double, .int32, .int64, .decimal128:
            appendNumber(NumericValue(value) ?? .nan, to: &out)
        case .string(let s), .symbol(let s), .javascript(let s):
            appendEscaped(s, to: &out)
        case .document(let d):
            appendDocumentBody(d, to: &out)
        case .array(let a):
            for e in a {
                out.append(tag(of: e))
                appendBody(e, to: &out)
            }
            out.append(0)
        case .binary(let b):
            appendBigEndian(UInt64(b.data.count), bytes: 4, to: &out)
            out.append(b.subtype)
            out.append(contentsOf: b.data)
        case .objectId(let id): out.append(contentsOf: id.bytes)
        case .bool(let b): out.append(b ? 1 : 0)
        case .datetime(let ms): appendBigEndian(UInt64(bitPattern: ms) ^ (1 << 63), bytes: 8, to: &out)
        case .timestamp(let t): appendBigEndian(t.value, bytes: 8, to: &out)
        case .regex(let r):
            appendEscaped(r.pattern, to: &out)
            appendEscaped(r.options, to: &out)
        case .dbPointer(let p):
            appendEscaped(p.ref, to: &out)
            out.append(contentsOf: p.id.bytes)
        case .javascriptWithScope(let c):
            appendEscaped(c.code, to: &out)
            appendDocumentBody(c.scope, to: &out)
        }
    }

    static func appendDocumentBody(_ d: BSONDocument, to out: inout [UInt8]) {
        for e in d.elements {
            let v = e.value
            out.append(tag(of: v))
            appendEscaped(e.key, to: &out)
            appendBody(v, to: &out)
        }
        out.append(0)
    }

    /// The number body: sub-tag, then (for finite non-zero values) exponent and fraction bits.
    static func appendNumber(_ n: NumericValue, to out: inout [UInt8]) {
        var negative = false
        var exponent = 0
        var fraction: UInt64 = 0
        switch n {
        case .nan: out.append(0x01); return
        case .int(0): out.append(0x04); return
        case .int(let i):
            negative = i < 0
            let m = i.magnitude
            let lz = m.leadingZeroBitCount
            exponent = 63 - lz
            fraction = m << UInt64(lz + 1)  // overshift yields 0
        case .double(let d):
            if d.isInfinite { out.append(d < 0 ? 0x02 : 0x06); return }
            if d == 0 { out.append(0x04); return }
            negative = d < 0
            let m = d.magnitude
            exponent = Int(m.exponent)
            fraction = m.significand.significandBitPattern << 12
        }
        out.append(negative ? 0x03 : 0x05)
        let start = out.count
        appendBigEndian(UInt64(exponent + 1100), bytes: 2, to: &out)
        appendBigEndian(fraction, bytes: 8, to: &out)
        if negative {
            for j in start..<out.count { out[j] = ~out[j] }
        }
    }

    static func appendEscaped(_ s: String, to out: inout [UInt8]) {
        for b in s.utf8 {
            out.append(b)
            if b == 0 { out.append(0xFF) }
        }
        out.append(0)
        out.append(0)
    }

    static func appendBigEndian(_ v: UInt64, bytes n: Int, to out: inout [UInt8]) {
        for i in stride(from: n - 1, through: 0, by: -1) {
            out.append(UInt8(truncatingIfNeeded: v >> UInt64(i * 8)))
        }
    }

    /// The smallest encoding of the type class of `value` (inclusive lower bound of its bracket).
    public static func bracketLowerBound(for value: BSONValue) -> [UInt8] { [tag(of: value)] }

    /// An exclusive upper bound above every encoding of the type class of `value`.
    public static func bracketUpperBound(for value: BSONValue) -> [UInt8] { [tag(of: value) &+ 1] }
}
