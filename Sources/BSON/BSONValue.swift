/// Binary data with its BSON subtype.
public struct BSONBinary: Sendable, Hashable {
    /// The subtype byte (0 generic, 4 UUID, 0x80+ user-defined…).
    public var subtype: UInt8
    /// The payload.
    public var data: [UInt8]

    /// Wraps a payload with a subtype (0 by default).
    public init(subtype: UInt8 = 0, data: [UInt8]) {
        self.subtype = subtype
        self.data = data
    }
}

/// A BSON regular expression: the pattern and its option letters.
public struct BSONRegex: Sendable, Hashable {
    /// The pattern text.
    public var pattern: String
    /// Option letters; BSON requires them in alphabetical order.
    public var options: String

    /// Creates a regex value.
    public init(pattern: String, options: String = "") {
        self.pattern = pattern
        self.options = options
    }
}

/// A BSON timestamp: seconds and an increment, compared as one unsigned 64-bit value.
public struct BSONTimestamp: Sendable, Hashable, Comparable {
    /// Seconds since the epoch (the high 32 bits).
    public var time: UInt32
    /// Ordinal within the second (the low 32 bits).
    public var increment: UInt32

    /// Creates a timestamp.
    public init(time: UInt32, increment: UInt32) {
        self.time = time
        self.increment = increment
    }

    /// The combined 64-bit value.
    public var value: UInt64 { UInt64(time) << 32 | UInt64(increment) }

    public static func < (lhs: BSONTimestamp, rhs: BSONTimestamp) -> Bool { lhs.value < rhs.value }
}

/// A deprecated DBPointer: a namespace and an ObjectId.
public struct BSONDBPointer: Sendable, Hashable {
    /// The namespace string.
    public var ref: String
    /// The referenced id.
    public var id: ObjectId

    /// Creates a DBPointer.
    public init(ref: String, id: ObjectId) {
        self.ref = ref
        self.id = id
    }
}

/// JavaScript code with a scope document.
public struct BSONCodeWithScope: Sendable, Hashable {
    /// The code.
    public var code: String
    /// The scope.
    public var scope: BSONDocument

    /// Creates a code-with-scope value.
    public init(code: String, scope: BSONDocument) {
        self.code = code
        self.scope = scope
    }
}

/// One BSON value of any type.
public enum BSONValue: Sendable, Hashable {
    case double(Double)
    case string(String)
    case document(BSONDocument)
    case array([BSONValue])
    case binary(BSONBinary)
    case undefined
    case objectId(ObjectId)
    case bool(Bool)
    /// Milliseconds since the Unix epoch.
    case datetime(Int64)
    case null
    case regex(BSONRegex)
    case dbPointer(BSONDBPointer)
    case javascript(String)
    case symbol(String)
    case javascriptWithScope(BSONCodeWithScope)
    case int32(Int32)
    case timestamp(BSONTimestamp)
    case int64(Int64)
    case decimal128(Decimal128)
    case minKey
    case maxKey

    /// The BSON type tag of this value.
    public var type: BSONType {
        switch self {
        case .double: return .double
        case .string: return .string
        case .document: return .document
        case .array: return .array
        case .binary: return .binary
        case .undefined: return .undefined
        case .objectId: return .objectId
        case .bool: return .bool
        case .datetime: return .datetime
        case .null: return .null
        case .regex: return .regex
        case .dbPointer: return .dbPointer
        case .javascript: return .javascript
        case .symbol: return .symbol
        case .javascriptWithScope: return .javascriptWithScope
        case .int32: return .int32
        case .timestamp: return .timestamp
        case .int64: return .int64
        case .decimal128: return .decimal128
        case .minKey: return .minKey
        case .maxKey: return .maxKey
        }
    }

    /// True for int32, int64, double and decimal128.
    public var isNumber: Bool {
        switch self {
        case .int32, .int64, .double, .decimal128: return true
        default: return false
        }
    }

    /// The value as an Int if it is an integral number that fits (doubles must be whole).
    public var intValue: Int? {
        switch self {
        case .int32(let v): return Int(v)
        case .int64(let v): return Int(v)
        case .double(let d):
            guard d.isFinite, d.rounded() == d, abs(d) < 9.2e18 else { return nil }
            return Int(d)
        case .decimal128(let d):
            let v = d.doubleValue
            guard v.isFinite, v.rounded() == v, abs(v) < 9.2e18 else { return nil }
            return Int(v)
        default: return nil
        }
    }

    /// The value as a Double if it is a number.
    public var doubleValue: Double? {
        switch self {
        case .int32(let v): return Double(v)
        case .int64(let v): return Double(v)
        case .double(let d): return d
        case .decimal128(let d): return d.doubleValue
        default: return nil
        }
    }

    /// The string, if this is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The document, if this is an embedded document.
    public var documentValue: BSONDocument? {
        if case .document(let d) = self { return d }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [BSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The boolean, if this is a bool.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// MongoDB's notion of truthiness for option fields: false, 0, null and undefined are false.
    public var isTruthy: Bool {
        switch self {
        case .bool(let b): return b
        case .int32(let v): return v != 0
        case .int64(let v): return v != 0
        case .double(let d): return d != 0
        case .decimal128(let d): return d.doubleValue != 0
        case .null, .undefined: return false
        default: return true
        }
    }
}

extension BSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    /// Integer literals become int32 when they fit, else int64.
    public init(integerLiteral value: Int) {
        if let v = Int32(exactly: value) { self = .int32(v) } else { self = .int64(Int64(value)) }
    }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: BSONValue...) { self = .array(elements) }

}
