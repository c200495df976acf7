import BSON

/// MongoDB's cross-type ordering of BSON values.
///
/// Types sort by their canonical class first — MinKey < undefined < null < numbers <
/// string/symbol < object < array < binData < ObjectId < bool < date < timestamp < regex <
/// dbPointer < javascript < javascriptWithScope < MaxKey — then by value within the class:
/// numbers by numeric value across int32/int64/double/decimal128 (see ``NumericValue``), strings
/// bytewise by UTF-8 (not by Unicode canonical equivalence), documents field by field (type class,
/// then field name, then value; a prefix sorts first), arrays element by element, binary by length,
/// then subtype, then bytes, regexes by pattern then options.
public enum BSONComparator {
    /// The canonical type class of a value; values of different classes never compare equal.
    public static func typeRank(_ value: BSONValue) -> Int {
        switch value {
        case .minKey: return 1
        case .undefined: return 2
        case .null: return 3
        case .double, .int32, .int64, .decimal128: return 4
        case .string, .symbol: return 5
        case .document: return 6
        case .array: return 7
        case .binary: return 8
        case .objectId: return 9
        case .bool: return 10
        case .datetime: return 11
        case .timestamp: return 12
        case .regex: return 13
        case .dbPointer: return 14
        case .javascript: return 15
        case .javascriptWithScope: return 16
        case .maxKey: return 17
        }
    }

    /// Three-way comparison in MongoDB order: negative, zero or positive.
    public static func compare(_ a: BSONValue, _ b: BSONValue) -> Int {
        let ra = typeRank(a)
        let rb = typeRank(b)
        if ra != rb { return ra < rb ? -1 : 1 }
        switch (a, b) {
        case (.string(let x), .string(let y)), (.symbol(let x), .symbol(let y)),
            (.string(let x), .symbol(let y)), (.symbol(let x), .string(let y)),
            (.javascript(let x), .javascript(let y)):
            return compareUTF8(x, y)
        case (.document(let x), .document(let y)):
            return compareDocuments(x, y)
        case (.array(let x), .array(let y)):
            return compareArrays(x, y)
        case (.binary(let x), .binary(let y)):
            if x.data.count != y.data.count { return x.data.count < y.data.count ? -1 : 1 }
            if x.subtype != y.subtype { return x.subtype < y.subtype ? -1 : 1 }
            return compareBytes(x.data, y.data)
        case (.objectId(let x), .objectId(let y)):
            return compareBytes(x.bytes, y.bytes)
        case (.bool(let x), .bool(let y)):
            return x == y ? 0 : (x ? 1 : -1)
        case (.datetime(let x), .datetime(let y)):
            return x < y ? -1 : (x > y ? 1 : 0)
        case (.timestamp(let x), .timestamp(let y)):
            return x.value < y.value ? -1 : (x.value > y.value ? 1 : 0)
        case (.regex(let x), .regex(let y)):
            let c = compareUTF8(x.pattern, y.pattern)
            return c != 0 ? c : compareUTF8(x.options, y.options)
        case (.dbPointer(let x), .dbPointer(let y)):
            let c = compareUTF8(x.ref, y.ref)
            return c != 0 ? c : compareBytes(x.id.bytes, y.id.bytes)
        case (.javascriptWithScope(let x), .javascriptWithScope(let y)):
            let c = compareUTF8(x.code, y.code)
            return c != 0 ? c : compareDocuments(x.scope, y.scope)
        default:
            if let x = NumericValue(a), let y = NumericValue(b) { return NumericValue.compare(x, y) }
            return 0  // minKey, maxKey, null, undefined: one value per class
        }
    }

    /// Compares two documents field by field: type class, then name, then value.
    public static func compareDocuments(_ a: BSONDocument, _ b: BSONDocument) -> Int {
        if a.bytes == b.bytes { return 0 }
        var ia = a.elements.makeIterator()
        var ib = b.elements.makeIterator()
        while true {
            let ea = ia.next()
            let eb = ib.next()
            guard let x = ea else { return eb == nil ? 0 : -1 }
            guard let y = eb else { return 1 }
            let vx = x.value
            let vy = y.value
            let rx = typeRank(vx)
            let ry = typeRank(vy)
            if rx != ry { return rx < ry ? -1 : 1 }
            let k = compareUTF8(x.key, y.key)
            if k != 0 { return k }
            let c = compare(vx, vy)
            if c != 0 { return c }
        }
    }

    /// Compares arrays element by element; a prefix sorts first.
    public static func compareArrays(_ a: [BSONValue], _ b: [BSONValue]) -> Int {
        for (x, y) in zip(a, b) {
            let c = compare(x, y)
            if c != 0 { return c }
        }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }

    /// Bytewise comparison of UTF-8 encodings.
    public static func compareUTF8(_ a: String, _ b: String) -> Int {
        var ia = a.utf8.makeIterator()
        var ib = b.utf8.makeIterator()
        while true {
            switch (ia.next(), ib.next()) {
            case (nil, nil): return 0
            case (nil, _): return -1
            case (_, nil): return 1
            case (let x?, let y?): if x != y { return x < y ? -1 : 1 }
            }
        }
    }

    static func compareBytes(_ a: [UInt8], _ b: [UInt8]) -> Int {
        for (x, y) in zip(a, b) where x != y { return x < y ? -1 : 1 }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }

    /// True when the two values are equal in MongoDB's sense (`1 == 1.0`, bytewise strings).
    public static func equal(_ a: BSONValue, _ b: BSONValue) -> Bool { compare(a, b) == 0 }
}

/// Three-way comparison of two BSON values in MongoDB order (see ``BSONComparator``).
public func compareBSON(_ a: BSONValue, _ b: BSONValue) -> Int { BSONComparator.compare(a, b) }
