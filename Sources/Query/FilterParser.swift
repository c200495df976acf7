import BSON

/// Turns filter documents into ``MatchNode`` trees, rejecting what MongoDB rejects.
enum FilterParser {
    /// Parses a whole filter (or an `$elemMatch` object, or a `$pull` condition) document.
    static func parse(_ doc: BSONDocument) throws -> MatchNode {
        var nodes: [MatchNode] = []
        for (key, value) in doc {
            if key.hasPrefix("$") {
                switch key {
                case "$and", "$or", "$nor":
                    let children = try parseClauses(key, value)
                    nodes.append(key == "$and" ? .and(children) : key == "$or" ? .or(children) : .nor(children))
                case "$comment":
                    continue
                case "$alwaysTrue", "$alwaysFalse":
                    nodes.append(.constant(key == "$alwaysTrue"))
                default:
                    throw QueryError.badValue("unknown top level operator: \(key). If you have a field name that starts with a '$' symbol, consider using $getField or $setField.")
                }
            } else {
                try nodes.append(contentsOf: parseField(FieldPath(key), value))
            }
        }
        return nodes.count == 1 ? nodes[0] : .and(nodes)
    }

    static func parseClauses(_ op: String, _ value: BSONValue) throws -> [MatchNode] {
        guard case .array(let items) = value else { throw QueryError.badValue("\(op) must be an array") }
        guard !items.isEmpty else { throw QueryError.badValue("$and/$or/$nor must be a nonempty array") }
        return try items.map { item in
            guard case .document(let d) = item else {
                throw QueryError.badValue("$or/$and/$nor entries need to be full objects")
            }
            return try parse(d)
        }
    }

    /// True when a document operand is an operator document (`{$gt: 1}`) rather than a literal
    /// (a DBRef's `$ref`/`$id`/`$db` fields are literal).
    static func isOperatorDocument(_ d: BSONDocument) -> Bool {
        guard let first = d.elements.first(where: { _ in true })?.key, first.hasPrefix("$") else { return false }
        return !(first == "$ref" || first == "$id" || first == "$db")
    }

    /// Parses `{path: value}`.
    static func parseField(_ path: FieldPath, _ value: BSONValue) throws -> [MatchNode] {
        switch value {
        case .regex(let r):
            return [.leaf(path, .regex(try CompiledRegex(pattern: r.pattern, options: r.options)))]
        case .document(let d) where isOperatorDocument(d):
            return try parseOperators(path, d)
        default:
            return [.leaf(path, .eq(value))]
        }
    }

    /// Parses an operator document applied to `path` (each operator is its own conjunct).
    static func parseOperators(_ path: FieldPath, _ ops: BSONDocument) throws -> [MatchNode] {
        var nodes: [MatchNode] = []
        var regexValue: BSONValue?
        var optionsValue: String?
        for (op, arg) in ops {
            switch op {
            case "$eq":
                nodes.append(.leaf(path, .eq(arg)))
            case "$ne":
                if case .regex = arg { throw QueryError.badValue("Can't have regex as arg to $ne.") }
                nodes.append(.not(.leaf(path, .eq(arg))))
            case "$gt", "$gte", "$lt", "$lte":
                if case .regex = arg { throw QueryError.badValue("Can't have RegEx as arg to predicate over field '\(path)'.") }
                let c: ComparisonOp = op == "$gt" ? .gt : op == "$gte" ? .gte : op == "$lt" ? .lt : .lte
                nodes.append(.leaf(path, .cmp(c, arg)))
            case "$in":
                nodes.append(.leaf(path, try parseIn(op, arg)))
            case "$nin":
                nodes.append(.not(.leaf(path, try parseIn(op, arg))))
            case "$exists":
                nodes.append(arg.isTruthy ? .leaf(path, .exists) : .not(.leaf(path, .exists)))
            case "$type":
                nodes.append(.leaf(path, .type(try parseTypeSet(arg))))
            case "$regex":
                switch arg {
                case .string, .regex: regexValue = arg
                default: throw QueryError.badValue("$regex has to be a string")
                }
            case "$options":
                guard case .string(let s) = arg else { throw QueryError.badValue("$options has to be a string") }
                optionsValue = s
            case "$not":
                nodes.append(.not(try parseNot(path, arg)))
            case "$elemMatch":
                nodes.append(.leaf(path, try parseElemMatch(arg)))
            case "$size":
                nodes.append(.leaf(path, .size(try parseSize(arg))))
            case "$all":
                nodes.append(try parseAll(path, arg))
            case "$mod":
                let (d, r) = try parseMod(arg)
                nodes.append(.leaf(path, .mod(d, r)))
            case "$comment":
                continue
            default:
                throw QueryError.badValue("unknown operator: \(op)")
            }
        }
        if let optionsValue, regexValue == nil {
            _ = optionsValue
            throw QueryError.badValue("$options needs a $regex")
        }
        if let regexValue {
            let regex: CompiledRegex
            switch regexValue {
            case .regex(let r):
                if optionsValue != nil && !r.options.isEmpty {
                    throw QueryError.location(51075, "options set in both $regex and $options")
                }
                regex = try CompiledRegex(pattern: r.pattern, options: optionsValue ?? r.options)
            case .string(let s):
                regex = try CompiledRegex(pattern: s, options: optionsValue ?? "")
            default:
                throw QueryError.badValue("$regex has to be a string")
            }
            nodes.append(.leaf(path, .regex(regex)))
        }
        return nodes
    }

    static func parseIn(_ op: String, _ arg: BSONValue) throws -> LeafOp {
        guard case .array(let items) = arg else { throw QueryError.badValue("\(op) needs an array") }
        var values: [BSONValue] = []
        var regexes: [CompiledRegex] = []
        for item in items {
            switch item {
            case .regex(let r):
                regexes.append(try CompiledRegex(pattern: r.pattern, options: r.options))
            case .document(let d) where isOperatorDocument(d):
                throw QueryError.badValue("cannot nest $ under \(op)")
            default:
                values.append(item)
            }
        }
        return .inSet(InList(values), regexes)
    }

    static func parseTypeSet(_ arg: BSONValue) throws -> TypeSet {
        var set = TypeSet()
        func add(_ v: BSONValue) throws {
            switch v {
            case .string(let alias):
                if alias == "number" { set.number = true; return }
                guard let t = BSONType.allCases.first(where: { $0.alias == alias }) else {
                    throw QueryError.badValue("Unknown type name alias: \(alias)")
                }
                set.types.insert(t.rawValue)
            case .int32, .int64, .double, .decimal128:
                guard let code = v.intValue, let t = BSONType.allCases.first(where: { $0.code == code }) else {
                    throw QueryError.badValue("Invalid numerical type code: \(v.doubleValue.map { String($0) } ?? "?")")
                }
                set.types.insert(t.rawValue)
            default:
                throw QueryError.badValue("type must be represented as a number or a string")
            }
        }
        if case .array(let items) = arg {
            for i in items { try add(i) }
        } else {
            try add(arg)
        }
        return set
    }

    static func parseNot(_ path: FieldPath, _ arg: BSONValue) throws -> MatchNode {
        switch arg {
        case .regex(let r):
            return .leaf(path, .regex(try CompiledRegex(pattern: r.pattern, options: r.options)))
        case .document(let d):
            guard !d.isEmpty else { throw QueryError.badValue("$not cannot be empty") }
            guard isOperatorDocument(d) else { throw QueryError.badValue("$not needs a regex or a document") }
            let nodes = try parseOperators(path, d)
            return nodes.count == 1 ? nodes[0] : .and(nodes)
        default:
            throw QueryError.badValue("$not needs a regex or a document")
        }
    }

    static func parseElemMatch(_ arg: BSONValue) throws -> LeafOp {
        guard case .document(let d) = arg else { throw QueryError.badValue("$elemMatch needs an Object") }
        let logical: Set<String> = ["$and", "$or", "$nor", "$where", "$expr", "$text", "$comment"]
        if let first = d.elements.first(where: { _ in true })?.key, first.hasPrefix("$"), !logical.contains(first) {
            let nodes = try parseOperators(FieldPath(""), d)
            return .elemMatchValue(nodes.count == 1 ? nodes[0] : .and(nodes))
        }
        return .elemMatchObject(try parse(d))
    }

    static func parseSize(_ arg: BSONValue) throws -> Int {
        guard arg.isNumber else { throw QueryError.badValue("$size needs a number") }
        if let d = arg.doubleValue, d < 0 { throw QueryError.badValue("$size may not be negative") }
        guard let n = arg.intValue, n <= Int(Int32.max) else {
            throw QueryError.badValue("$size must be a whole number")
        }
        return n
    }

    static func parseAll(_ path: FieldPath, _ arg: BSONValue) throws -> MatchNode {
        guard case .array(let items) = arg else { throw QueryError.badValue("$all needs an array") }
        if items.isEmpty { return .constant(false) }
        var nodes: [MatchNode] = []
        for item in items {
            switch item {
            case .regex(let r):
                nodes.append(.leaf(path, .regex(try CompiledRegex(pattern: r.pattern, options: r.options))))
            case .document(let d) where isOperatorDocument(d):
                guard let first = d.elements.first(where: { _ in true }), first.key == "$elemMatch" else {
                    throw QueryError.badValue("no $ expressions in $all")
                }
                nodes.append(.leaf(path, try parseElemMatch(first.value)))
            default:
                nodes.append(.leaf(path, .eq(item)))
            }
        }
        return nodes.count == 1 ? nodes[0] : .and(nodes)
    }

    static func parseMod(_ arg: BSONValue) throws -> (Int64, Int64) {
        guard case .array(let items) = arg else { throw QueryError.badValue("malformed mod, needs to be an array") }
        if items.count < 2 { throw QueryError.badValue("malformed mod, not enough elements") }
        if items.count > 2 { throw QueryError.badValue("malformed mod, too many elements") }
        func integer(_ v: BSONValue, _ what: String) throws -> Int64 {
            guard let d = v.doubleValue else { throw QueryError.badValue("malformed mod, \(what) not a number") }
            guard d.isFinite, d > -9.2e18, d < 9.2e18 else {
                throw QueryError.badValue("malformed mod, \(what) value is invalid")
            }
            switch v {
            case .int32(let i): return Int64(i)
            case .int64(let i): return i
            default: return Int64(d.rounded(.towardZero))
            }
        }
        let d = try integer(items[0], "divisor")
        let r = try integer(items[1], "remainder")
        if d == 0 { throw QueryError.badValue("divisor cannot be 0") }
        return (d, r)
    }
}
