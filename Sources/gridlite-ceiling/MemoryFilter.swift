import BSON

/// A command the ceiling server cannot answer.
struct CeilingError: Error {
    /// MongoDB error code.
    var code: Int32
    /// The message sent as `errmsg`.
    var message: String

    init(_ message: String, code: Int32 = 2) {
        self.code = code
        self.message = message
    }
}

/// The subset of MongoDB filters GridFS clients send: per top-level field, a literal equality or
/// `$eq`, `$in`, `$gt`/`$gte`/`$lt`/`$lte` on numbers and dates, and `$regex` anchored prefixes.
struct MemoryFilter: Sendable {
    /// One condition on one field.
    enum Condition: Sendable {
        case equals(RawValueKey)
        case oneOf(Set<RawValueKey>)
        case compare(op: String, Int64)
        case prefix([UInt8])
    }

    /// (field, condition) pairs; all must hold.
    private(set) var conditions: [(field: String, condition: Condition)] = []

    /// Compiles `filter`; throws for operators outside the supported subset.
    init(_ filter: BSONDocument?) throws(CeilingError) {
        guard let filter else { return }
        for element in filter.elements {
            let field = element.key
            guard !field.hasPrefix("$") else { throw CeilingError("top-level operator \(field) not supported") }
            if element.typeByte == BSONType.document.rawValue,
               case .document(let operand) = element.value,
               let first = operand.elements.first(where: { _ in true }), first.key.hasPrefix("$") {
                for op in operand.elements {
                    conditions.append((field, try Self.condition(op)))
                }
            } else if element.typeByte == BSONType.regex.rawValue, case .regex(let regex) = element.value {
                conditions.append((field, try Self.prefixCondition(regex.pattern)))
            } else {
                conditions.append((field, .equals(rawKey(element))))
            }
        }
    }

    private static func condition(_ op: BSONElement) throws(CeilingError) -> Condition {
        switch op.key {
        case "$eq":
            return .equals(rawKey(op))
        case "$in":
            guard case .document(let array) = BSONValue.documentFromArrayElement(op) else {
                throw CeilingError("$in needs an array")
            }
            return .oneOf(Set(array.elements.map(rawKey)))
        case "$gt", "$gte", "$lt", "$lte":
            switch op.value {
            case .int32(let v): return .compare(op: op.key, Int64(v))
            case .int64(let v): return .compare(op: op.key, v)
            case .datetime(let v): return .compare(op: op.key, v)
            default: throw CeilingError("\(op.key) supported on integers and dates only")
            }
        case "$regex":
            guard case .string(let pattern) = op.value else {
                if case .regex(let regex) = op.value { return try prefixCondition(regex.pattern) }
                throw CeilingError("$regex needs a string")
            }
            return try prefixCondition(pattern)
        case "$options":
            return .prefix([])
        default:
            throw CeilingError("operator \(op.key) not supported by the ceiling server")
        }
    }

    /// `^literal` patterns only.
    private static func prefixCondition(_ pattern: String) throws(CeilingError) -> Condition {
        guard pattern.hasPrefix("^") else { throw CeilingError("only anchored prefix regexes are supported") }
        let literal = pattern.dropFirst()
        let meta: Set<Character> = [".", "*", "+", "?", "(", ")", "[", "]", "{", "}", "|", "\\", "$", "^"]
        guard !literal.contains(where: { meta.contains($0) }) else {
            throw CeilingError("only literal prefix regexes are supported")
        }
        return .prefix(Array(literal.utf8))
    }

    /// The raw key of an equality condition on `field`, if there is one.
    func equalityKey(_ field: String) -> RawValueKey? {
        for (f, condition) in conditions where f == field {
            if case .equals(let key) = condition { return key }
        }
        return nil
    }

    /// The literal prefix of a `^prefix` regex condition on `field`, if there is one.
    func prefix(_ field: String) -> [UInt8]? {
        for (f, condition) in conditions where f == field {
            if case .prefix(let p) = condition, !p.isEmpty { return p }
        }
        return nil
    }

    /// Whether `document` satisfies every condition.
    func matches(_ document: BSONDocument) -> Bool {
        for (field, condition) in conditions {
            guard let element = document.element(forKey: field) else {
                if case .prefix(let p) = condition, p.isEmpty { continue }
                return false
            }
            switch condition {
            case .equals(let key):
                guard element.typeByte == key[0], element.rawValue.elementsEqual(key[1...]) else { return false }
            case .oneOf(let keys):
                guard keys.contains(rawKey(element)) else { return false }
            case .compare(let op, let bound):
                let value: Int64
                switch element.value {
                case .int32(let v): value = Int64(v)
                case .int64(let v): value = v
                case .datetime(let v): value = v
                default: return false
                }
                let ok = switch op {
                case "$gt": value > bound
                case "$gte": value >= bound
                case "$lt": value < bound
                default: value <= bound
                }
                guard ok else { return false }
            case .prefix(let prefix):
                guard element.typeByte == BSONType.string.rawValue else { return false }
                let raw = element.rawValue
                let start = raw.startIndex + 4
                guard raw.count - 5 >= prefix.count,
                      raw[start..<(start + prefix.count)].elementsEqual(prefix) else { return false }
            }
        }
        return true
    }
}

extension BSONValue {
    /// An array element's encoded bytes read as a document (arrays are documents with keys "0", "1", …).
    static func documentFromArrayElement(_ element: BSONElement) -> BSONValue? {
        guard element.typeByte == BSONType.array.rawValue,
              let document = BSONDocument(storedBytes: Array(element.rawValue)) else { return nil }
        return .document(document)
    }
}
