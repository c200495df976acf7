import BSON
import Foundation

/// Turns the fuzzer's bytes into BSON values and command documents (the structure-aware target).
///
/// Values favour the edges: Int32/Int64 minimum and maximum, −0.0, NaN, ±infinity, empty and huge
/// strings, every BSON type, documents nested past the 100-level limit and long arrays. Query,
/// update, projection, sort and pipeline documents come from the operators gridlite parses
/// (`Grammar+Query.swift`), commands from `CommandTable` (`Grammar+Commands.swift`).
public struct Grammar {
    /// The choices still to read.
    public var input: FuzzInput
    /// Cursor ids seen in replies of this input (for `getMore` / `killCursors`).
    public var cursorIds: [Int64] = []

    /// A grammar reading `bytes`.
    public init(_ bytes: [UInt8]) {
        input = FuzzInput(bytes)
    }

    /// Field names: the fixture's, dotted paths, positional and operator-looking ones.
    static let fieldNames = [
        "a", "b", "x", "_id", "a.b", "a.0", "a.b.c", "tags", "n", "s", "d", "arr", "arr.0", "arr.$",
        "arr.$[]", "arr.$[e]", "a.$[]", "", ".", "a..b", "$x", "a.$", "length", "filename", "chunkSize",
        "uploadDate", "files_id", "data", "metadata.k", "0", "999999999999999999999",
    ]

    /// Strings at the edges: empty, one byte, multi-byte, NUL inside, operator- and path-like, long.
    static let strings: [String] = [
        "", "a", "x", "é", "😀", "a\u{0}b", "$", "$gt", "a.b", ".", "fuzz", "c", "fs.files", "fs.chunks",
        "system.indexes", "admin", "textScore", "1", "-1", "NaN", "Infinity", "\u{FFFF}",
        String(repeating: "x", count: 300), String(repeating: "é", count: 5000),
    ]

    /// Doubles at the edges.
    static let doubles: [Double] = [
        0, -0.0, 1, -1, 0.5, -1.5, .nan, -.nan, .infinity, -.infinity, .greatestFiniteMagnitude,
        -.greatestFiniteMagnitude, .leastNonzeroMagnitude, 9.2233720368547758e18, -9.2233720368547758e18,
        2147483648, -2147483649, 9007199254740992, 1e300, 4294967296,
    ]

    /// Int64s at the edges.
    static let int64s: [Int64] = [
        0, 1, -1, .min, .max, .min + 1, .max - 1, Int64(Int32.max) + 1, Int64(Int32.min) - 1,
        1 << 53, -(1 << 53), 16_777_216, 48_000_000, 100_000, 100_001,
    ]

    /// Int32s at the edges.
    static let int32s: [Int32] = [0, 1, -1, 2, 100, 101, 255, 256, .min, .max, .min + 1, .max - 1, 16_777_216]

    // MARK: numbers

    /// An Int32 from the edge list or the input.
    public mutating func int32() -> Int32 {
        input.chance(70) ? input.pick(Self.int32s) : Int32(truncatingIfNeeded: input.integer(width: 4))
    }

    /// An Int64 from the edge list or the input.
    public mutating func int64() -> Int64 {
        input.chance(70) ? input.pick(Self.int64s) : input.integer(width: 8)
    }

    /// A double from the edge list or any bit pattern.
    public mutating func double() -> Double {
        input.chance(70) ? input.pick(Self.doubles) : Double(bitPattern: UInt64(bitPattern: input.integer(width: 8)))
    }

    /// A Decimal128: NaN, ±infinity, extremes, or any bit pattern.
    public mutating func decimal() -> Decimal128 {
        let texts = ["0", "-0", "1", "-1", "NaN", "Infinity", "-Infinity", "9.999999999999999999999999999999999E+6144",
                     "1E-6176", "9223372036854775808", "-9223372036854775809", "0.5", "2147483648"]
        if input.chance(70), let d = Decimal128(input.pick(texts)) { return d }
        return Decimal128(low: UInt64(bitPattern: input.integer(width: 8)), high: UInt64(bitPattern: input.integer(width: 8)))
    }

    /// Any number type, edge values first.
    public mutating func number() -> BSONValue {
        switch input.choose(4) {
        case 0: .int32(int32())
        case 1: .int64(int64())
        case 2: .double(double())
        default: .decimal128(decimal())
        }
    }

    /// A small non-negative count with a chance of an edge value (for sizes the harness allocates).
    public mutating func smallCount(_ limit: Int) -> Int {
        input.choose(limit + 1)
    }

    // MARK: strings and names

    /// A string from the edge list, or short text from the input.
    public mutating func string() -> String {
        if input.chance(75) { return input.pick(Self.strings) }
        let count = smallCount(12)
        return String(decoding: input.raw(count).map { $0 == 0 ? 0x41 : $0 }, as: UTF8.self)
    }

    /// A field name or path.
    public mutating func fieldName() -> String {
        input.chance(85) ? input.pick(Self.fieldNames) : string().replacingOccurrences(of: "\u{0}", with: "_")
    }

    // MARK: values

    /// Any BSON value; containers nest at most `depth` more levels (deep chains aside).
    public mutating func value(depth: Int = 3) -> BSONValue {
        switch input.choose(depth > 0 ? 24 : 20) {
        case 0, 1: return number()
        case 2, 3: return .string(string())
        case 4: return .bool(input.chance(50))
        case 5: return .null
        case 6: return .datetime(input.chance(50) ? input.pick([.min, .max, 0, -1, 253_402_300_800_000]) : int64())
        case 7: return .objectId(objectId())
        case 8: return .binary(BSONBinary(subtype: input.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 0x80, 0xFF]), data: input.raw(smallCount(20))))
        case 9: return .regex(regex())
        case 10: return .timestamp(BSONTimestamp(time: UInt32(truncatingIfNeeded: int64()), increment: UInt32(truncatingIfNeeded: int64())))
        case 11: return input.chance(50) ? .minKey : .maxKey
        case 12: return .undefined
        case 13: return .javascript(string())
        case 14: return .symbol(string())
        case 15: return .javascriptWithScope(BSONCodeWithScope(code: string(), scope: ["x": number()]))
        case 16: return .dbPointer(BSONDBPointer(ref: string(), id: objectId()))
        case 17: return deep(input.pick([2, 99, 100, 101, 150, 200]), array: input.chance(50))
        case 18: return longArray()
        case 19: return .int32(int32())
        case 20, 21: return .document(document(depth: depth - 1))
        default: return .array(array(depth: depth - 1))
        }
    }

    /// An ObjectId made of the input's next 12 bytes (never the clock: an input must decode the same way twice).
    public mutating func objectId() -> ObjectId {
        ObjectId(bytes: input.raw(12)) ?? ObjectId()  // raw(12) is always 12 bytes
    }

    /// A regular expression: ordinary, anchored, invalid, with every option letter (valid or not).
    public mutating func regex() -> BSONRegex {
        let patterns = ["^a", "a", "", ".*", "^", "(", "[", "a{99999}", "\\", "(?i)x", "^fs\\.", "é+", "(a|b)*c", "\\p{L}"]
        let options = ["", "i", "m", "x", "s", "u", "imxs", "z", "ii", "l"]
        return BSONRegex(pattern: input.chance(80) ? input.pick(patterns) : string(), options: input.pick(options))
    }

    /// A document of up to four fields.
    public mutating func document(depth: Int) -> BSONDocument {
        var doc = BSONDocument()
        for _ in 0..<smallCount(4) { doc.append(fieldName(), value(depth: depth)) }
        return doc
    }

    /// An array of up to four values.
    public mutating func array(depth: Int) -> [BSONValue] {
        (0..<smallCount(4)).map { _ in value(depth: depth) }
    }

    /// A document (or array) chain `levels` deep: `{a: {a: … {a: 1}}}`.
    public mutating func deep(_ levels: Int, array: Bool) -> BSONValue {
        var inner: BSONValue = number()
        for _ in 0..<levels { inner = array ? .array([inner]) : .document(["a": inner]) }
        return inner
    }

    /// An array of 100 to 20,000 copies of one scalar.
    public mutating func longArray() -> BSONValue {
        let count = input.pick([100, 101, 1000, 20_000])
        let element: BSONValue = input.chance(50) ? number() : .string(input.pick(["", "a", "x"]))
        return .array(Array(repeating: element, count: count))
    }

    /// `good`, or (about one time in ten) any value instead: a type or range the command does not expect.
    public mutating func wild(_ good: BSONValue) -> BSONValue {
        input.chance(10) ? value(depth: 1) : good
    }
}
