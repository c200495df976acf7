import BSON

/// The `$group` accumulators.
public enum AccumulatorOperator: String, Sendable, CaseIterable {
    case sum = "$sum", avg = "$avg", min = "$min", max = "$max", first = "$first", last = "$last"
    case push = "$push", addToSet = "$addToSet", count = "$count"
}

/// One output field of a `$group`: `{field: {$op: argument}}`.
struct AccumulatorSpec: Sendable {
    let field: String
    let op: AccumulatorOperator
    let argument: Expression

    /// Parses `field: {$op: argument}`.
    static func parse(field: String, _ value: BSONValue, variables: [String: BSONValue]) throws(QueryError) -> AccumulatorSpec {
        if field.hasPrefix("$") { throw QueryError.location(40236, "The field name '\(field)' cannot be an operator name") }
        if field.contains(".") { throw QueryError.location(40235, "The field name '\(field)' cannot contain '.'") }
        guard case .document(let d) = value else {
            throw QueryError.location(40234, "The field '\(field)' must be an accumulator object")
        }
        let pairs = d.pairs
        guard pairs.count == 1, let (name, arg) = pairs.first else {
            throw QueryError.location(40238, "The field '\(field)' must specify one accumulator")
        }
        guard let op = AccumulatorOperator(rawValue: name) else {
            throw QueryError.location(15952, "Unknown group operator '\(name)'")
        }
        if op == .count {
            guard case .document(let empty) = arg, empty.isEmpty else {
                throw QueryError.location(40240, "$count takes no arguments, i.e. $count:{}")
            }
            return AccumulatorSpec(field: field, op: .sum, argument: .literal(.int32(1)))
        }
        if case .array = arg {
            throw QueryError.location(40237, "The \(name) accumulator is a unary operator")
        }
        return AccumulatorSpec(field: field, op: op, argument: try Expression.parse(arg, variables: variables))
    }

    /// A fresh state for one group.
    func makeState() -> AccumulatorState {
        switch op {
        case .sum, .count: return .sum(NumericAccumulator(.add))
        case .avg: return .avg(NumericAccumulator(.add), 0)
        case .min, .max: return .extreme(nil)
        case .first: return .first(nil)
        case .last: return .last(.null)
        case .push: return .push([])
        case .addToSet: return .addToSet([], [])
        }
    }
}

/// The running state of one accumulator in one group.
enum AccumulatorState: Sendable {
    case sum(NumericAccumulator)
    case avg(NumericAccumulator, Int)
    case extreme(BSONValue?)
    case first(BSONValue?)
    case last(BSONValue)
    case push([BSONValue])
    case addToSet([BSONValue], Set<[UInt8]>)

    /// Folds in one document's value (nil = missing); returns the bytes of memory it added.
    mutating func add(_ value: BSONValue?, _ op: AccumulatorOperator) -> Int {
        switch self {
        case .sum(var acc):
            if let value { acc.combine(value) }
            self = .sum(acc)
        case .avg(var acc, let n):
            if let value, acc.combine(value) { self = .avg(acc, n + 1) }
        case .extreme(let current):
            guard let value, !ExpressionOperator.isNullish(value) else { return 0 }
            if let current {
                let c = compareBSON(value, current)
                if op == .min ? c < 0 : c > 0 {
                    self = .extreme(value)
                    return AccumulatorState.size(value)
                }
            } else {
                self = .extreme(value)
                return AccumulatorState.size(value)
            }
        case .first(let current):
            if current == nil {
                self = .first(value ?? .null)
                return AccumulatorState.size(value ?? .null)
            }
        case .last:
            self = .last(value ?? .null)
            return AccumulatorState.size(value ?? .null)
        case .push(var list):
            guard let value else { return 0 }
            self = .push([])  // release the old reference before appending
            list.append(value)
            self = .push(list)
            return AccumulatorState.size(value)
        case .addToSet(var list, var seen):
            guard let value else { return 0 }
            let key = IndexKeyEncoder.encode(value)
            guard seen.insert(key).inserted else { return 0 }
            self = .push([])
            list.append(value)
            self = .addToSet(list, seen)
            return AccumulatorState.size(value) + key.count
        }
        return 0
    }

    /// The accumulated result.
    var result: BSONValue {
        switch self {
        case .sum(let acc): return acc.value
        case .avg(let acc, let n):
            guard n > 0 else { return .null }
            let total = acc.value
            if case .decimal128 = total {
                return .decimal128(UpdateArithmetic.decimalFromDouble((total.doubleValue ?? 0) / Double(n)))
            }
            return .double((total.doubleValue ?? 0) / Double(n))
        case .extreme(let v): return v ?? .null
        case .first(let v): return v ?? .null
        case .last(let v): return v
        case .push(let list), .addToSet(let list, _): return .array(list)
        }
    }

    /// Approximate memory held by a value.
    static func size(_ v: BSONValue) -> Int {
        switch v {
        case .document(let d): return d.bytes.count + 16
        case .array(let a): return a.reduce(32) { $0 + size($1) }
        case .string(let s): return s.utf8.count + 24
        case .binary(let b): return b.data.count + 24
        default: return 16
        }
    }
}
