import BSON

/// When a fail point fires, as `configureFailPoint`'s `mode` says: `"off"`, `"alwaysOn"`,
/// `{times: n}` (the next n matching commands), `{skip: n}` (every matching command after the
/// first n) or `{activationProbability: p}`. Parsed and checked as mongod's `FailPoint::parseBSON`.
public enum FailPointMode: Sendable, Equatable {
    /// Never fires.
    case off
    /// Fires on every matching command.
    case alwaysOn
    /// Fires on the next `n` matching commands, then turns itself off.
    case times(Int32)
    /// Lets `n` matching commands pass, then fires on every later one.
    case skip(Int32)
    /// Fires on a matching command with this probability.
    case probability(Double)

    /// The mode of a `configureFailPoint` command document (its `mode` field).
    public init(command: BSONDocument) throws(CommandError) {
        guard let mode = command["mode"] else {
            throw CommandError(.illegalOperation, "When setting a failpoint, you must supply a 'mode'")
        }
        switch mode {
        case .string("off"): self = .off
        case .string("alwaysOn"): self = .alwaysOn
        case .string(let other): throw CommandError(.badValue, "unknown mode: \(other)")
        case .document(let d):
            if let times = d["times"] {
                let n = try FailPointMode.count(times, option: "times")
                self = n == 0 ? .off : .times(n)
            } else if let skip = d["skip"] {
                self = .skip(try FailPointMode.count(skip, option: "skip"))
            } else if let p = d["activationProbability"] {
                guard let value = p.doubleValue else {
                    throw CommandError(.typeMismatch,
                                       "the 'activationProbability' option to 'mode' must be a double between 0 and 1")
                }
                guard value >= 0, value <= 1 else {
                    throw CommandError(.badValue, "activationProbability must be between 0.0 and 1.0; found \(value)")
                }
                self = .probability(value)
            } else {
                throw CommandError(.badValue,
                                   "'mode' must be one of 'off', 'alwaysOn', '{times:n}', '{skip:n}' or '{activationProbability:p}'")
            }
        default:
            throw CommandError(.typeMismatch, "'mode' must be a string or JSON object")
        }
    }

    /// An integral, non-negative `times`/`skip` that fits in an int32 (bsonExtractIntegerField rules).
    private static func count(_ value: BSONValue, option: String) throws(CommandError) -> Int32 {
        guard value.isNumber else {
            throw CommandError(.typeMismatch, "Expected field \"\(option)\" to have numeric type, but found \(value.type.alias)")
        }
        guard let n = value.intValue else {
            throw CommandError(.badValue, "Expected field \"\(option)\" to have a value exactly representable as a 64-bit integer, but found \(value)")
        }
        guard n >= 0 else { throw CommandError(.badValue, "'\(option)' option to 'mode' must be positive") }
        guard n <= Int(Int32.max) else { throw CommandError(.badValue, "'\(option)' option to 'mode' is too large") }
        return Int32(n)
    }

    /// Decides one matching command: whether the fail point fires, and the mode afterwards
    /// (`times` counts down and turns off at zero; `skip` counts down to zero and then fires).
    func next(random: () -> Double) -> (fires: Bool, mode: FailPointMode) {
        switch self {
        case .off: return (false, .off)
        case .alwaysOn: return (true, .alwaysOn)
        case .times(let n): return (true, n <= 1 ? .off : .times(n - 1))
        case .skip(let n): return n <= 0 ? (true, .skip(0)) : (false, .skip(n - 1))
        case .probability(let p): return (random() < p, self)
        }
    }

    /// The mode as mongod reports it (its numeric mode and the remaining count or period).
    var document: BSONValue {
        switch self {
        case .off: return .string("off")
        case .alwaysOn: return .string("alwaysOn")
        case .times(let n): return .document(["times": .int32(n)])
        case .skip(let n): return .document(["skip": .int32(n)])
        case .probability(let p): return .document(["activationProbability": .double(p)])
        }
    }
}
