import BSON

/// An update document parsed once: either a replacement document or a list of operator actions
/// (`$set $unset $inc $mul $min $max $rename $setOnInsert $push $addToSet $pull $pullAll $pop
/// $currentDate`), applied with ``apply(to:isUpsertInsert:)``.
public struct UpdateSpec: Sendable {
    /// `$push` modifiers.
    struct PushSpec: Sendable {
        var items: [BSONValue]
        var position: Int?
        var slice: Int?
        var sort: PushSort?
    }

    /// `$push`'s `$sort`: by whole value (±1) or by fields of document elements.
    enum PushSort: Sendable {
        case value(descending: Bool)
        case fields(SortSpec)
    }

    /// `$pull`'s condition.
    enum PullCondition: Sendable {
        case equals(BSONValue)
        case valuePredicate(MatchNode)
        case documentQuery(MatchNode)
    }

    enum Op: Sendable {
        case set(BSONValue)
        case unset
        case inc(BSONValue)
        case mul(BSONValue)
        case min(BSONValue)
        case max(BSONValue)
        case rename(FieldPath)
        case setOnInsert(BSONValue)
        case push(PushSpec)
        case addToSet([BSONValue])
        case pull(PullCondition)
        case pullAll([BSONValue])
        case pop(first: Bool)
        case currentDate(timestamp: Bool)
    }

    struct Action: Sendable {
        var name: String
        var path: FieldPath
        var op: Op
    }

    /// The replacement document, for a replacement-style update.
    public let replacement: BSONDocument?
    let actions: [Action]

    /// True for a replacement-style update (no `$` operators).
    public var isReplacement: Bool { replacement != nil }

    /// Parses an update document. Throws FailedToParse (9) for unknown operators or malformed
    /// operands, ConflictingUpdateOperators (40) for overlapping paths, EmptyFieldName (56),
    /// TypeMismatch (14) for non-numeric `$inc`/`$mul` operands, BadValue (2) otherwise.
    public init(_ document: BSONDocument) throws {
        guard let first = document.elements.first(where: { _ in true }), first.key.hasPrefix("$") else {
            for key in document.keys where key.hasPrefix("$") {
                throw QueryError(code: 52, codeName: "DollarPrefixedFieldName",
                                 message: "The dollar ($) prefixed field '\(key)' in '\(key)' is not valid for storage.")
            }
            replacement = document
            actions = []
            return
        }
        var actions: [Action] = []
        for (name, operand) in document {
            guard case .document(let fields) = operand else {
                throw QueryError.failedToParse("Modifiers operate on fields but we found type \(operand.type.alias) instead. For example: {$mod: {<field>: ...}} not {\(name): \(operand.type.alias)}")
            }
            for (field, arg) in fields {
                let path = try UpdateSpec.checkedPath(field)
                actions.append(Action(name: name, path: path, op: try UpdateSpec.parseOp(name, field, arg)))
                if case .rename(let to) = actions[actions.count - 1].op {
                    if to == path { throw QueryError.badValue("The source and target field for $rename must differ: \(field): \"\(to)\"") }
                    if to.isPrefix(of: path) || path.isPrefix(of: to) {
                        throw QueryError.badValue("The source and target field for $rename must not be on the same path: \(field): \"\(to)\"")
                    }
                }
            }
        }
        try UpdateSpec.checkConflicts(actions)
        self.replacement = nil
        // MongoDB 5.0+ applies fields in path order: names lexicographically, numbers numerically.
        self.actions = actions.enumerated().sorted { x, y in
            let c = UpdateSpec.comparePaths(x.element.path, y.element.path)
            return c != 0 ? c < 0 : x.offset < y.offset
        }.map(\.element)
    }

    /// Orders update paths component by component: numerically when both are numbers,
    /// otherwise bytewise.
    static func comparePaths(_ a: FieldPath, _ b: FieldPath) -> Int {
        for i in 0..<min(a.count, b.count) {
            if let x = a.indexes[i], let y = b.indexes[i] {
                if x != y { return x < y ? -1 : 1 }
                continue
            }
            let c = BSONComparator.compareUTF8(a.components[i], b.components[i])
            if c != 0 { return c }
        }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }

    /// Validates a field path of an update.
    static func checkedPath(_ field: String) throws -> FieldPath {
        let path = FieldPath(field)
        if path.isEmpty || path.components.contains(where: \.isEmpty) {
            throw QueryError.emptyFieldName("The update path '\(field)' contains an empty field name, which is not allowed.")
        }
        if path.components.contains(where: { $0 == "$" || $0.hasPrefix("$[") }) {
            throw QueryError.badValue("The positional operator did not find the match needed from the query.")
        }
        return path
    }

    static func checkConflicts(_ actions: [Action]) throws {
        var seen: [FieldPath] = []
        for a in actions {
            var paths = [a.path]
            if case .rename(let to) = a.op { paths.append(to) }
            for p in paths {
                if let other = seen.first(where: { $0.isPrefix(of: p) || p.isPrefix(of: $0) }) {
                    throw QueryError.conflictingUpdate("Updating the path '\(p)' would create a conflict at '\(other.count <= p.count ? other : p)'")
                }
                seen.append(p)
            }
        }
    }

    static func parseOp(_ name: String, _ field: String, _ arg: BSONValue) throws -> Op {
        switch name {
        case "$set": return .set(arg)
        case "$unset": return .unset
        case "$setOnInsert": return .setOnInsert(arg)
        case "$inc", "$mul":
            guard arg.isNumber else {
                let verb = name == "$inc" ? "increment" : "multiply"
                throw QueryError.typeMismatch("Cannot \(verb) with non-numeric argument: {\(field): \(describeValue(arg))}")
            }
            return name == "$inc" ? .inc(arg) : .mul(arg)
        case "$min": return .min(arg)
        case "$max": return .max(arg)
        case "$rename":
            guard case .string(let to) = arg else {
                throw QueryError.badValue("The 'to' field for $rename must be a string: \(field): \(arg.type.alias)")
            }
            return .rename(try checkedPath(to))
        case "$push": return .push(try parsePush(arg))
        case "$addToSet":
            if case .document(let d) = arg, let each = d["$each"] {
                guard case .array(let items) = each else {
                    throw QueryError.badValue("The argument to $each in $addToSet must be an array but it was of type \(each.type.alias)")
                }
                return .addToSet(items)
            }
            return .addToSet([arg])
        case "$pull": return .pull(try parsePull(arg))
        case "$pullAll":
            guard case .array(let items) = arg else {
                throw QueryError.badValue("$pullAll requires an array argument but was given a \(arg.type.alias)")
            }
            return .pullAll(items)
        case "$pop":
            guard let n = NumericValue(arg), n == .int(1) || n == .int(-1) else {
                throw QueryError.failedToParse("$pop expects 1 or -1, found: \(arg.doubleValue.map { String($0) } ?? arg.type.alias)")
            }
            return .pop(first: n == .int(-1))
        case "$currentDate":
            if case .bool = arg { return .currentDate(timestamp: false) }
            if case .document(let d) = arg, d.count == 1, case .string(let t)? = d["$type"], t == "date" || t == "timestamp" {
                return .currentDate(timestamp: t == "timestamp")
            }
            throw QueryError.badValue("The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}")
        default:
            throw QueryError.failedToParse("Unknown modifier: \(name). Expected a valid update modifier or pipeline-style update specified as an array")
        }
    }

    static func parsePush(_ arg: BSONValue) throws -> PushSpec {
        guard case .document(let d) = arg, let each = d["$each"] else { return PushSpec(items: [arg]) }
        guard case .array(let items) = each else {
            throw QueryError.badValue("The argument to $each in $push must be an array but it was of type: \(each.type.alias)")
        }
        var spec = PushSpec(items: items)
        for (k, v) in d where k != "$each" {
            switch k {
            case "$position":
                guard let p = v.intValue else { throw QueryError.badValue("The value for $position must be an integer value, not of type: \(v.type.alias)") }
                spec.position = p
            case "$slice":
                guard let s = v.intValue else { throw QueryError.badValue("The value for $slice must be an integer value but was given type: \(v.type.alias)") }
                spec.slice = s
            case "$sort":
                if let n = NumericValue(v), n == .int(1) || n == .int(-1) {
                    spec.sort = .value(descending: n == .int(-1))
                } else if case .document(let sd) = v, !sd.isEmpty {
                    spec.sort = .fields(try SortSpec(sd))
                } else {
                    throw QueryError.badValue("The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields")
                }
            default:
                throw QueryError.badValue("Unrecognized clause in $push: \(k)")
            }
        }
        return spec
    }

    static func parsePull(_ arg: BSONValue) throws -> PullCondition {
        guard case .document(let d) = arg else {
            if case .regex(let r) = arg {
                let re = try CompiledRegex(pattern: r.pattern, options: r.options)
                return .valuePredicate(.leaf(FieldPath(""), .regex(re)))
            }
            return .equals(arg)
        }
        if FilterParser.isOperatorDocument(d) {
            let logical: Set<String> = ["$and", "$or", "$nor"]
            if let first = d.keys.first, logical.contains(first) { return .documentQuery(try FilterParser.parse(d)) }
            let nodes = try FilterParser.parseOperators(FieldPath(""), d)
            return .valuePredicate(nodes.count == 1 ? nodes[0] : .and(nodes))
        }
        return .documentQuery(try FilterParser.parse(d))
    }
}

/// A short relaxed-JSON rendering of one value, for error messages.
func describeValue(_ v: BSONValue) -> String {
    let json = BSONDocument([("v", v)]).relaxedExtendedJSON
    let prefix = "{ \"v\" : "
    guard json.hasPrefix(prefix), json.hasSuffix(" }") else { return json }
    return String(json.dropFirst(prefix.count).dropLast(2))
}
