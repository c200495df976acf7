import BSON
import Storage

/// Conversions of numbers a client sent, none of which can trap: every one either saturates as
/// mongod's `safeNumberLong` does or fails with mongod's error.
public enum ClientNumbers {
    /// mongod's `safeNumberLong`: int32/int64 as they are; a double or decimal truncated toward
    /// zero, NaN as 0, and values past the int64 range saturated to its ends. Nil for non-numbers.
    public static func saturatingInt64(_ value: BSONValue) -> Int64? {
        switch value {
        case .int32(let v): return Int64(v)
        case .int64(let v): return v
        case .double(let d): return saturatingInt64(d)
        case .decimal128(let d): return saturatingInt64(d.doubleValue)
        default: return nil
        }
    }

    /// A double truncated toward zero into the int64 range (NaN is 0).
    public static func saturatingInt64(_ d: Double) -> Int64 {
        if d.isNaN { return 0 }
        if d >= 9_223_372_036_854_775_807.0 { return .max }
        if d <= -9_223_372_036_854_775_808.0 { return .min }
        return Int64(d.rounded(.towardZero))
    }

    /// `|n|`, or nil for `Int64.min`, whose magnitude has no int64.
    public static func magnitude(_ n: Int64) -> Int64? {
        n == .min ? nil : (n < 0 ? 0 &- n : n)
    }

    /// An IDL `safeInt64` field with a `gte: 0` validator (find's `skip`/`limit`/`batchSize`,
    /// getMore's and aggregate's `batchSize`): 14 for a non-number, 51024 for a negative value.
    public static func nonNegative(_ value: BSONValue?, field: String, path: String) throws(CommandError) -> Int64? {
        guard let value else { return nil }
        if case .null = value { return nil }
        guard let n = saturatingInt64(value) else {
            throw CommandError.wrongNumericType(path, got: value.type)
        }
        guard n >= 0 else {
            throw CommandError(code: 51024, codeName: "Location51024", message: "BSON field '\(field)' value must be >= 0, actual value '\(n)'")
        }
        return n
    }

    /// The generic `maxTimeMS` check mongod runs for every command: a whole number in
    /// `[0, 2147483647]` (2 `BadValue` otherwise). Returns the milliseconds, nil when absent.
    public static func maxTimeMS(_ value: BSONValue?) throws(CommandError) -> Int32? {
        guard let value else { return nil }
        guard value.isNumber, let n = saturatingInt64(value) else {
            throw CommandError(.badValue, "maxTimeMS must be a number")
        }
        guard n >= 0, n <= Int64(Int32.max) else {
            throw CommandError(.badValue, "\(n) value for maxTimeMS is out of range [0, \(Int32.max)]")
        }
        if case .double(let d) = value, d.rounded(.down) != d {
            throw CommandError(.badValue, "maxTimeMS has non-integral value")
        }
        return Int32(truncatingIfNeeded: n)
    }

    /// The generic `writeConcern` check: an object whose numeric `w` is in `[0, 50]`.
    public static func checkWriteConcern(_ value: BSONValue?) throws(CommandError) {
        guard let value else { return }
        guard case .document(let wc) = value else {
            throw CommandError(.typeMismatch, "\"writeConcern\" had the wrong type. Expected object, found \(value.type.alias)")
        }
        guard let w = wc["w"] else { return }
        switch w {
        case .int32, .int64, .double, .decimal128:
            if case .double(let d) = w, d.isNaN { throw CommandError(.failedToParse, "w cannot be NaN") }
            let n = saturatingInt64(w) ?? 0
            guard n >= 0, n <= 50 else {
                throw CommandError(.failedToParse, "w has to be a non-negative number and not greater than 50; found: \(n)")
            }
        case .string, .document: break
        default:
            throw CommandError(.failedToParse, "w has to be a number, string, or object")
        }
    }
}

extension MongoError {
    /// A numeric IDL field of the wrong type, worded as mongod words it.
    public static func wrongNumericType(_ path: String, got: BSONType) -> MongoError {
        MongoError(.typeMismatch, "BSON field '\(path)' is the wrong type '\(got.alias)', expected types '[long, int, decimal, double']")
    }
}
