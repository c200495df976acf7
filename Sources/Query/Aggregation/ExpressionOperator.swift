import BSON

/// The expression operators the aggregation engine evaluates.
public enum ExpressionOperator: String, Sendable, CaseIterable {
    case add = "$add", subtract = "$subtract", multiply = "$multiply", divide = "$divide"
    case concat = "$concat", toLower = "$toLower", toUpper = "$toUpper"
    case eq = "$eq", ne = "$ne", gt = "$gt", gte = "$gte", lt = "$lt", lte = "$lte"
    case and = "$and", or = "$or", not = "$not"
    case ifNull = "$ifNull", size = "$size", arrayElemAt = "$arrayElemAt", type = "$type"

    /// Checks the argument count (code 16020 for fixed arities, as MongoDB does).
    func checkArity(_ n: Int) throws(QueryError) {
        let fixed: Int?
        switch self {
        case .subtract, .divide, .eq, .ne, .gt, .gte, .lt, .lte, .arrayElemAt: fixed = 2
        case .toLower, .toUpper, .not, .size, .type: fixed = 1
        case .ifNull:
            if n < 2 { throw QueryError.location(1257300, "$ifNull needs at least two arguments, had: \(n)") }
            fixed = nil
        case .add, .multiply, .concat, .and, .or: fixed = nil
        }
        if let fixed, n != fixed {
            throw QueryError.location(16020, "Expression \(rawValue) takes exactly \(fixed) arguments. \(n) were passed in.")
        }
    }

    func evaluate(_ args: [Expression], _ root: BSONDocument) throws(QueryError) -> BSONValue? {
        switch self {
        case .and:
            for a in args where !Expression.isTrue(try a.evaluate(root)) { return .bool(false) }
            return .bool(true)
        case .or:
            for a in args where Expression.isTrue(try a.evaluate(root)) { return .bool(true) }
            return .bool(false)
        case .ifNull:
            for a in args.dropLast() {
                if let v = try a.evaluate(root), !Self.isNullish(v) { return v }
            }
            return try args.last?.evaluate(root)
        case .not:
            return .bool(!Expression.isTrue(try args[0].evaluate(root)))
        default:
            var values: [BSONValue?] = []
            for a in args { values.append(try a.evaluate(root)) }
            return try apply(values)
        }
    }

    static func isNullish(_ v: BSONValue?) -> Bool {
        switch v {
        case nil, .null?, .undefined?: return true
        default: return false
        }
    }

    /// Applies a strict operator to evaluated arguments.
    func apply(_ v: [BSONValue?]) throws(QueryError) -> BSONValue? {
        switch self {
        case .add: return try AggregationArithmetic.add(v)
        case .subtract: return try AggregationArithmetic.subtract(v[0], v[1])
        case .multiply: return try AggregationArithmetic.multiply(v)
        case .divide: return try AggregationArithmetic.divide(v[0], v[1])
        case .concat:
            var out = ""
            for x in v {
                switch x {
                case nil, .null?, .undefined?: return .null
                case .string(let s)?: out += s
                case let other?: throw QueryError.location(16702, "$concat only supports strings, not \(other.type.alias)")
                }
            }
            return .string(out)
        case .toLower, .toUpper:
            let s = try Self.stringForCase(v[0])
            return .string(self == .toLower ? Self.asciiLower(s) : Self.asciiUpper(s))
        case .eq, .ne, .gt, .gte, .lt, .lte:
            // Missing compares like undefined: below null, equal to another missing.
            let c = compareBSON(v[0] ?? .undefined, v[1] ?? .undefined)
            switch self {
            case .eq: return .bool(c == 0)
            case .ne: return .bool(c != 0)
            case .gt: return .bool(c > 0)
            case .gte: return .bool(c >= 0)
            case .lt: return .bool(c < 0)
            default: return .bool(c <= 0)
            }
        case .size:
            guard case .array(let a)? = v[0] else {
                throw QueryError.location(17124, "The argument to $size must be an array. Type of argument was: \(v[0]?.type.alias ?? "missing")")
            }
            return .int32(Int32(clamping: a.count))
        case .arrayElemAt:
            return try Self.arrayElemAt(v[0], v[1])
        case .type:
            return .string(v[0]?.type.alias ?? "missing")
        case .and, .or, .not, .ifNull:
            return nil  // handled lazily in evaluate
        }
    }

    static func arrayElemAt(_ array: BSONValue?, _ index: BSONValue?) throws(QueryError) -> BSONValue? {
        if isNullish(array) || isNullish(index) { return .null }
        guard case .array(let a)? = array else {
            throw QueryError.location(28689, "$arrayElemAt's first argument must be an array, but is \(array?.type.alias ?? "missing")")
        }
        guard let index, index.isNumber else {
            throw QueryError.location(28690, "$arrayElemAt's second argument must be a numeric value, but is \(index?.type.alias ?? "missing")")
        }
        guard let i = index.intValue, let i32 = Int32(exactly: i) else {
            throw QueryError.location(28691, "$arrayElemAt's second argument must be representable as a 32-bit integer: \(index)")
        }
        let pos = i32 < 0 ? a.count + Int(i32) : Int(i32)
        guard pos >= 0 && pos < a.count else { return nil }
        return a[pos]
    }

    /// `$toLower`/`$toUpper` input: null and missing give "", numbers and dates are converted.
    static func stringForCase(_ v: BSONValue?) throws(QueryError) -> String {
        switch v {
        case nil, .null?, .undefined?: return ""
        case .string(let s)?, .symbol(let s)?: return s
        case .int32(let i)?: return String(i)
        case .int64(let i)?: return String(i)
        case .double(let d)?: return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .decimal128(let d)?: return d.description
        case .objectId(let o)?: return o.hex
        case .datetime(let ms)?: return AggregationArithmetic.isoDate(ms)
        case let other?:
            throw QueryError.location(16007, "can't convert from BSON type \(other.type.alias) to String")
        }
    }

    static func asciiLower(_ s: String) -> String {
        String(decoding: s.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }

    static func asciiUpper(_ s: String) -> String {
        String(decoding: s.utf8.map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 }, as: UTF8.self)
    }
}
