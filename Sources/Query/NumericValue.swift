import BSON

/// A number of any BSON numeric type, reduced to a form that compares exactly across types.
///
/// * int32, int64 and whole doubles inside the int64 range become ``int(_:)``, so `1`, `1.0` and
///   `NumberLong(1)` are the same value; `-0.0` is `0`.
/// * Other doubles stay ``double(_:)`` and compare exactly against integers (no rounding through
///   Double, so `2^53 + 1` as int64 is greater than the double `2^53`).
/// * decimal128 values that are whole and fit in int64 are exact integers too; every other
///   decimal is approximated by its nearest double (so `NumberDecimal("0.1")` equals the double
///   `0.1`, and decimals that differ only beyond double precision compare equal). Decimal NaN is NaN.
/// * NaN equals NaN and sorts below every other number, as in MongoDB.
public enum NumericValue: Sendable, Hashable {
    case nan
    case int(Int64)
    case double(Double)

    /// The canonical numeric form of `value`, or nil if it is not a number.
    public init?(_ value: BSONValue) {
        switch value {
        case .int32(let v): self = .int(Int64(v))
        case .int64(let v): self = .int(v)
        case .double(let d): self = NumericValue(double: d)
        case .decimal128(let d): self = NumericValue(decimal: d)
        default: return nil
        }
    }

    /// The canonical form of a double.
    public init(double d: Double) {
        if d.isNaN {
            self = .nan
        } else if d.isFinite, d.rounded(.towardZero) == d, d >= -9_223_372_036_854_775_808.0, d < 9_223_372_036_854_775_808.0 {
            self = .int(Int64(d))
        } else {
            self = .double(d)
        }
    }

    /// The canonical form of a decimal128 (exact for whole values in the int64 range).
    public init(decimal: Decimal128) {
        let hi = decimal.high
        let negative = hi >> 63 == 1
        if (hi >> 58) & 0x1F == 0x1F { self = .nan; return }
        if (hi >> 58) & 0x1F == 0x1E { self = .double(negative ? -.infinity : .infinity); return }
        var exponent: Int
        var cHigh: UInt64
        var cLow = decimal.low
        if (hi >> 61) & 0x3 == 0x3 {
            // Coefficients of this form exceed 10^34 and are non-canonical: the value is zero.
            exponent = Int((hi >> 47) & 0x3FFF) - 6176
            cHigh = 0
            cLow = 0
        } else {
            exponent = Int((hi >> 49) & 0x3FFF) - 6176
            cHigh = hi & 0x1_FFFF_FFFF_FFFF
        }
        if cHigh == 0 && cLow == 0 { self = .int(0); return }
        // Strip trailing decimal zeros while the exponent is negative.
        while exponent < 0 {
            let (qh, rh) = cHigh.quotientAndRemainder(dividingBy: 10)
            let (ql, r) = (10 as UInt64).dividingFullWidth((high: rh, low: cLow))
            guard r == 0 else { break }
            cHigh = qh
            cLow = ql
            exponent += 1
        }
        if exponent >= 0, cHigh == 0, exponent <= 19 {
            var m = cLow
            var ok = true
            for _ in 0..<exponent {
                let (p, o) = m.multipliedReportingOverflow(by: 10)
                if o { ok = false; break }
                m = p
            }
            if ok {
                if !negative, m <= UInt64(Int64.max) { self = .int(Int64(m)); return }
                if negative, m <= UInt64(Int64.max) + 1 { self = .int(Int64(truncatingIfNeeded: 0 &- m)); return }
            }
        }
        self = NumericValue(double: decimal.doubleValue)
    }

    /// The value as a Double (rounded for large integers).
    public var doubleValue: Double {
        switch self {
        case .nan: return .nan
        case .int(let i): return Double(i)
        case .double(let d): return d
        }
    }

    /// Three-way comparison: negative, zero or positive.
    public static func compare(_ a: NumericValue, _ b: NumericValue) -> Int {
        switch (a, b) {
        case (.nan, .nan): return 0
        case (.nan, _): return -1
        case (_, .nan): return 1
        case (.int(let x), .int(let y)): return x < y ? -1 : (x > y ? 1 : 0)
        case (.double(let x), .double(let y)): return x < y ? -1 : (x > y ? 1 : 0)
        case (.int(let x), .double(let y)): return compareIntDouble(x, y)
        case (.double(let x), .int(let y)): return -compareIntDouble(y, x)
        }
    }

    /// Exact comparison of an Int64 with a (non-NaN) Double.
    static func compareIntDouble(_ i: Int64, _ d: Double) -> Int {
        if d >= 9_223_372_036_854_775_808.0 { return -1 }
        if d < -9_223_372_036_854_775_808.0 { return 1 }
        let t = d.rounded(.down)  // exactly representable in Int64 here
        let ti = Int64(t)
        if i < ti { return -1 }
        if i > ti { return 1 }
        return t == d ? 0 : -1  // d has a fractional part above its floor
    }
}
