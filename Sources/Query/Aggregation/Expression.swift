import BSON

/// An aggregation expression, parsed once and evaluated against many documents.
///
/// Covers field paths (`"$a.b"`, which map over arrays as MongoDB's aggregation does), the
/// variables `$$ROOT`, `$$CURRENT` and `$$REMOVE` (and constants passed in through `let`),
/// literals, `{$literal: v}`, objects and arrays of expressions, and the operators listed in
/// ``ExpressionOperator``. Evaluation yields nil for "missing".
public indirect enum Expression: Sendable {
    /// A constant.
    case literal(BSONValue)
    /// A path into the current document (empty path: the document itself).
    case fieldPath(FieldPath)
    /// `$$REMOVE`: evaluates to missing.
    case remove
    /// An object whose fields are expressions (fields evaluating to missing are left out).
    case object([(String, Expression)])
    /// An array of expressions (elements evaluating to missing become null).
    case array([Expression])
    /// An operator applied to its arguments.
    case op(ExpressionOperator, [Expression])
    /// `$cond` in either form.
    case cond(Expression, Expression, Expression)

    /// Parses an expression. `variables` are the constants of the command's `let`.
    public static func parse(_ value: BSONValue, variables: [String: BSONValue] = [:]) throws(QueryError) -> Expression {
        switch value {
        case .string(let s) where s.hasPrefix("$$"):
            return try parseVariable(String(s.dropFirst(2)), variables: variables)
        case .string(let s) where s.hasPrefix("$"):
            return .fieldPath(try parsePath(String(s.dropFirst())))
        case .document(let d):
            return try parseObject(d, variables: variables)
        case .array(let a):
            var out: [Expression] = []
            for e in a { out.append(try parse(e, variables: variables)) }
            return .array(out)
        default:
            return .literal(value)
        }
    }

    static func parsePath(_ s: String) throws(QueryError) -> FieldPath {
        guard !s.isEmpty else { throw QueryError.location(16872, "'$' by itself is not a valid FieldPath") }
        let path = FieldPath(s)
        for c in path.components {
            if c.isEmpty { throw QueryError.location(15998, "FieldPath field names may not be empty strings.") }
            if c.hasPrefix("$") { throw QueryError.location(16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField.") }
        }
        return path
    }

    static func parseVariable(_ s: String, variables: [String: BSONValue]) throws(QueryError) -> Expression {
        let name = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let rest = s.count > name.count ? String(s.dropFirst(name.count + 1)) : ""
        let tail = rest.isEmpty ? FieldPath("") : try parsePath(rest)
        switch name {
        case "ROOT", "CURRENT":
            return .fieldPath(tail)
        case "REMOVE":
            return .remove
        case "":
            throw QueryError.location(16869, "empty variable name")
        default:
            guard let value = variables[name] else {
                throw QueryError.location(17276, "Use of undefined variable: \(name)")
            }
            return .literal(Expression.evaluatePath(value, tail, 0) ?? .undefined)
        }
    }

    static func parseObject(_ d: BSONDocument, variables: [String: BSONValue]) throws(QueryError) -> Expression {
        let pairs = d.pairs
        if let first = pairs.first, first.key.hasPrefix("$") {
            guard pairs.count == 1 else {
                throw QueryError.location(15983, "an expression specification must contain exactly one field, the name of the expression. Found \(pairs.count) fields in \(d)")
            }
            return try parseOperator(first.key, first.value, variables: variables)
        }
        var fields: [(String, Expression)] = []
        for (key, value) in pairs {
            if key.hasPrefix("$") {
                throw QueryError.location(16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField.")
            }
            if key.isEmpty { throw QueryError.location(16411, "FieldPath field names may not be empty strings.") }
            if key.contains(".") { throw QueryError.location(16412, "FieldPath field names may not contain '.'. Consider using $getField or $setField.") }
            fields.append((key, try parse(value, variables: variables)))
        }
        return .object(fields)
    }

    static func parseOperator(_ name: String, _ arg: BSONValue, variables: [String: BSONValue]) throws(QueryError) -> Expression {
        if name == "$literal" { return .literal(arg) }
        if name == "$cond" { return try parseCond(arg, variables: variables) }
        guard let op = ExpressionOperator(rawValue: name) else {
            throw QueryError(code: 168, codeName: "InvalidPipelineOperator", message: "Unrecognized expression '\(name)'")
        }
        var args: [Expression] = []
        if case .array(let a) = arg {
            for e in a { args.append(try parse(e, variables: variables)) }
        } else {
            args.append(try parse(arg, variables: variables))
        }
        try op.checkArity(args.count)
        return .op(op, args)
    }

    static func parseCond(_ arg: BSONValue, variables: [String: BSONValue]) throws(QueryError) -> Expression {
        switch arg {
        case .array(let a):
            guard a.count == 3 else {
                throw QueryError.location(16020, "Expression $cond takes exactly 3 arguments. \(a.count) were passed in.")
            }
            return .cond(try parse(a[0], variables: variables), try parse(a[1], variables: variables), try parse(a[2], variables: variables))
        case .document(let d):
            var parts: [String: Expression] = [:]
            for (key, value) in d {
                guard ["if", "then", "else"].contains(key) else {
                    throw QueryError.location(17083, "Unrecognized parameter to $cond: \(key)")
                }
                parts[key] = try parse(value, variables: variables)
            }
            guard let c = parts["if"] else { throw QueryError.location(17080, "Missing 'if' parameter to $cond") }
            guard let t = parts["then"] else { throw QueryError.location(17081, "Missing 'then' parameter to $cond") }
            guard let e = parts["else"] else { throw QueryError.location(17082, "Missing 'else' parameter to $cond") }
            return .cond(c, t, e)
        default:
            throw QueryError.location(16020, "Expression $cond takes exactly 3 arguments. 1 were passed in.")
        }
    }

    /// True when the expression does not depend on the document (a literal).
    public var constantValue: BSONValue? {
        if case .literal(let v) = self { return v }
        return nil
    }

    /// Evaluates against `root`; nil means missing.
    public func evaluate(_ root: BSONDocument) throws(QueryError) -> BSONValue? {
        switch self {
        case .literal(let v):
            return v
        case .fieldPath(let path):
            if path.isEmpty { return .document(root) }
            guard let first = root[path.components[0]] else { return nil }
            return Expression.evaluatePath(first, path, 1)
        case .remove:
            return nil
        case .object(let fields):
            var out = BSONDocument()
            for (key, e) in fields {
                if let v = try e.evaluate(root) { out.append(key, v) }
            }
            return .document(out)
        case .array(let elements):
            var out: [BSONValue] = []
            for e in elements { out.append(try e.evaluate(root) ?? .null) }
            return .array(out)
        case .cond(let c, let t, let e):
            return try Expression.isTrue(c.evaluate(root)) ? t.evaluate(root) : e.evaluate(root)
        case .op(let op, let args):
            return try op.evaluate(args, root)
        }
    }

    /// Aggregation path semantics: through documents by name; at an array, map over its
    /// documents and arrays (other elements and missing results are dropped).
    static func evaluatePath(_ value: BSONValue, _ path: FieldPath, _ i: Int) -> BSONValue? {
        if i == path.count { return value }
        switch value {
        case .document(let d):
            guard let next = d[path.components[i]] else { return nil }
            return evaluatePath(next, path, i + 1)
        case .array(let a):
            var out: [BSONValue] = []
            for e in a {
                switch e {
                case .document, .array:
                    if let r = evaluatePath(e, path, i) { out.append(r) }
                default: break
                }
            }
            return .array(out)
        default:
            return nil
        }
    }

    /// Aggregation truthiness: false, null, missing, undefined and numeric zero are false.
    static func isTrue(_ v: BSONValue?) -> Bool {
        guard let v else { return false }
        return v.isTruthy
    }
}
