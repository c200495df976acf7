import BSON

/// A running sum or product with MongoDB's numeric promotion: all-int32 stays int32 while it
/// fits, then int64; int64 overflow turns into double; any double makes a double; any
/// decimal128 makes a decimal128 (computed through Double, so approximate).
struct NumericAccumulator: Sendable {
    enum Kind: Int, Sendable, Comparable {
        case int32, int64, double, decimal
        static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
    }

    enum Operation: Sendable { case add, multiply }

    let operation: Operation
    private(set) var kind: Kind = .int32
    /// The exact integer result while every input was an integer and nothing overflowed.
    private var integer: Int64
    /// The floating result once inexact.
    private var real: Double = 0
    private var inexact = false

    init(_ operation: Operation) {
        self.operation = operation
        integer = operation == .add ? 0 : 1
    }

    /// Adds (or multiplies in) one value; returns false when it is not a number.
    @discardableResult
    mutating func combine(_ v: BSONValue) -> Bool {
        let k: Kind
        var exact: Int64?
        switch v {
        case .int32(let i): k = .int32; exact = Int64(i)
        case .int64(let i): k = .int64; exact = i
        case .double: k = .double
        case .decimal128: k = .decimal
        default: return false
        }
        kind = max(kind, k)
        if !inexact, let i = exact {
            let (r, o) = operation == .add ? integer.addingReportingOverflow(i) : integer.multipliedReportingOverflow(by: i)
            if !o {
                integer = r
                return true
            }
        }
        if !inexact {
            inexact = true
            real = Double(integer)
        }
        let d = v.doubleValue ?? 0
        real = operation == .add ? real + d : real * d
        return true
    }

    /// The result in its promoted type.
    var value: BSONValue {
        if !inexact {
            if kind == .int32, let i = Int32(exactly: integer) { return .int32(i) }
            return .int64(integer)
        }
        if kind == .decimal { return .decimal128(UpdateArithmetic.decimalFromDouble(real)) }
        return .double(real)
    }
}

/// `$add`, `$subtract`, `$multiply`, `$divide` over evaluated arguments (nil = missing).
enum AggregationArithmetic {
    static func isNullish(_ v: BSONValue?) -> Bool { ExpressionOperator.isNullish(v) }

    static func add(_ values: [BSONValue?]) throws(QueryError) -> BSONValue? {
        var acc = NumericAccumulator(.add)
        var date: Int64?
        for v in values {
            guard let v, !isNullish(v) else { return .null }
            if case .datetime(let ms) = v {
                if date != nil { throw QueryError.location(16612, "only one date allowed in an $add expression") }
                date = ms
                continue
            }
            guard acc.combine(v) else {
                throw QueryError.location(16554, "$add only supports numeric or date types, not \(v.type.alias)")
            }
        }
        guard let date else { return acc.value }
        return .datetime(try offset(date, by: acc.value, in: "$add"))
    }

    static func multiply(_ values: [BSONValue?]) throws(QueryError) -> BSONValue? {
        var acc = NumericAccumulator(.multiply)
        for v in values {
            guard let v, !isNullish(v) else { return .null }
            guard acc.combine(v) else {
                throw QueryError.location(16555, "$multiply only supports numeric types, not \(v.type.alias)")
            }
        }
        return acc.value
    }

    static func subtract(_ a: BSONValue?, _ b: BSONValue?) throws(QueryError) -> BSONValue? {
        guard let a, let b, !isNullish(a), !isNullish(b) else { return .null }
        switch (a, b) {
        case (.datetime(let x), .datetime(let y)):
            let (difference, overflow) = x.subtractingReportingOverflow(y)
            guard !overflow else { throw dateOverflow("$subtract") }
            return .int64(difference)
        case (.datetime(let x), _) where b.isNumber:
            return .datetime(try offset(x, by: negate(b), in: "$subtract"))
        default:
            guard a.isNumber, b.isNumber else {
                throw QueryError.location(16556, "can't $subtract \(b.type.alias) from \(a.type.alias)")
            }
            var acc = NumericAccumulator(.add)
            acc.combine(a)
            acc.combine(negate(b))
            return acc.value
        }
    }

    static func divide(_ a: BSONValue?, _ b: BSONValue?) throws(QueryError) -> BSONValue? {
        guard let a, let b, !isNullish(a), !isNullish(b) else { return .null }
        guard a.isNumber, b.isNumber, let x = a.doubleValue, let y = b.doubleValue else {
            throw QueryError.location(16609, "$divide only supports numeric types, not \(a.type.alias) and \(b.type.alias)")
        }
        guard y != 0 else { throw QueryError.location(16608, "can't $divide by zero") }
        if case .decimal128 = a { return .decimal128(UpdateArithmetic.decimalFromDouble(x / y)) }
        if case .decimal128 = b { return .decimal128(UpdateArithmetic.decimalFromDouble(x / y)) }
        return .double(x / y)
    }

    static func negate(_ v: BSONValue) -> BSONValue {
        switch v {
        case .int32(let i): return i == .min ? .int64(-Int64(i)) : .int32(-i)
        case .int64(let i): return i == .min ? .double(-Double(i)) : .int64(-i)
        case .double(let d): return .double(-d)
        case .decimal128(let d): return .decimal128(UpdateArithmetic.decimalFromDouble(-d.doubleValue))
        default: return v
        }
    }

    /// `date` moved by a number of milliseconds, as mongod computes a date's `$add`/`$subtract`:
    /// integers exactly, doubles and decimals rounded to a whole millisecond. A result outside
    /// the int64 range, a NaN or an infinity is 15 `Overflow` ("date overflow in $add"), never
    /// a wrapped date.
    static func offset(_ date: Int64, by amount: BSONValue, in op: String) throws(QueryError) -> Int64 {
        switch amount {
        case .int32(let i):
            let (r, o) = date.addingReportingOverflow(Int64(i))
            guard !o else { throw dateOverflow(op) }
            return r
        case .int64(let i):
            let (r, o) = date.addingReportingOverflow(i)
            guard !o else { throw dateOverflow(op) }
            return r
        default:
            // mongod rounds the offset first: a double half away from zero, a decimal half to even.
            guard let d = amount.doubleValue else { throw dateOverflow(op) }
            var rule = FloatingPointRoundingRule.toNearestOrAwayFromZero
            if case .decimal128 = amount { rule = .toNearestOrEven }
            let whole = d.rounded(rule)
            // 2^63 is the first double past Int64.max, so the upper bound is exclusive.
            guard whole.isFinite, whole >= -9_223_372_036_854_775_808.0, whole < 9_223_372_036_854_775_808.0,
                  let ms = Int64(exactly: whole) else { throw dateOverflow(op) }
            let (r, o) = date.addingReportingOverflow(ms)
            guard !o else { throw dateOverflow(op) }
            return r
        }
    }

    static func dateOverflow(_ op: String) -> QueryError {
        QueryError(code: 15, codeName: "Overflow", message: "date overflow in \(op)")
    }

    /// A date as ISO 8601 in UTC with milliseconds (`2024-01-02T03:04:05.006Z`).
    static func isoDate(_ ms: Int64) -> String {
        let (days, dayMs) = ms.floorDivided(by: 86_400_000)
        // Civil date from days since 1970-01-01 (proleptic Gregorian).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ n: Int64, _ w: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        let h = dayMs / 3_600_000, m = dayMs / 60_000 % 60, s = dayMs / 1000 % 60, f = dayMs % 1000
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(h, 2)):\(pad(m, 2)):\(pad(s, 2)).\(pad(f, 3))Z"
    }
}

extension Int64 {
    /// Floor division and the non-negative remainder.
    func floorDivided(by d: Int64) -> (Int64, Int64) {
        let q = self / d
        let r = self % d
        return r < 0 ? (q - 1, r + d) : (q, r)
    }
}
