import BSON

/// `$inc` / `$mul` arithmetic with MongoDB's type promotion: int32 op int32 stays int32 unless it
/// overflows (then int64); with an int64 the result is int64, and nil when it overflows (mongod
/// refuses the update with 2 `BadValue` rather than changing the type);
/// any double makes a double; any decimal128 makes a decimal128 (computed through Double, so
/// decimal arithmetic is approximate to about 15–17 significant digits).
enum UpdateArithmetic {
    enum Operation { case add, multiply }

    static func apply(_ op: Operation, _ a: BSONValue, _ b: BSONValue) -> BSONValue? {
        switch (a, b) {
        case (.decimal128, _), (_, .decimal128):
            let x = a.doubleValue ?? 0
            let y = b.doubleValue ?? 0
            let r = op == .add ? x + y : x * y
            return .decimal128(decimalFromDouble(r))
        case (.double, _), (_, .double):
            let x = a.doubleValue ?? 0
            let y = b.doubleValue ?? 0
            return .double(op == .add ? x + y : x * y)
        case (.int32(let x), .int32(let y)):
            let (r, o) = op == .add ? x.addingReportingOverflow(y) : x.multipliedReportingOverflow(by: y)
            if !o { return .int32(r) }
            return int64Result(op, Int64(x), Int64(y))
        default:
            guard let x = int64(a), let y = int64(b) else { return a }
            return int64Result(op, x, y)
        }
    }

    static func int64Result(_ op: Operation, _ x: Int64, _ y: Int64) -> BSONValue? {
        let (r, o) = op == .add ? x.addingReportingOverflow(y) : x.multipliedReportingOverflow(by: y)
        return o ? nil : .int64(r)
    }

    static func int64(_ v: BSONValue) -> Int64? {
        switch v {
        case .int32(let i): return Int64(i)
        case .int64(let i): return i
        default: return nil
        }
    }

    /// The zero of the same numeric type as `v` (what `$mul` creates for a missing field).
    static func zero(like v: BSONValue) -> BSONValue {
        switch v {
        case .int32: return .int32(0)
        case .int64: return .int64(0)
        case .decimal128: return .decimal128(decimalFromDouble(0))
        default: return .double(0)
        }
    }

    static func decimalFromDouble(_ d: Double) -> Decimal128 {
        if d.isNaN { return Decimal128("NaN") ?? Decimal128(low: 0, high: 0x7C00_0000_0000_0000) }
        if d.isInfinite { return Decimal128(d < 0 ? "-Infinity" : "Infinity") ?? Decimal128(low: 0, high: 0x7800_0000_0000_0000) }
        if d == d.rounded(), abs(d) < 1e15 { return Decimal128(String(Int64(d))) ?? Decimal128(low: 0, high: 0x3040_0000_0000_0000) }
        return Decimal128("\(d)".uppercased()) ?? Decimal128(low: 0, high: 0x3040_0000_0000_0000)
    }
}
