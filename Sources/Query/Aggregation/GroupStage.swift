import BSON

/// A parsed `$group`: the key expression and the accumulators.
struct GroupSpec: Sendable {
    let id: Expression
    let accumulators: [AccumulatorSpec]

    /// Parses a `$group` specification.
    static func parse(_ value: BSONValue, variables: [String: BSONValue]) throws(QueryError) -> GroupSpec {
        guard case .document(let d) = value else {
            throw QueryError.location(15947, "a group's fields must be specified in an object")
        }
        var id: Expression?
        var accumulators: [AccumulatorSpec] = []
        for (key, v) in d {
            if key == "_id" {
                if id != nil { throw QueryError.location(15948, "a group's _id may only be specified once") }
                id = try Expression.parse(v, variables: variables)
            } else {
                accumulators.append(try AccumulatorSpec.parse(field: key, v, variables: variables))
            }
        }
        guard let id else { throw QueryError.location(15955, "a group specification must include an _id") }
        return GroupSpec(id: id, accumulators: accumulators)
    }

    /// When every accumulator is `$sum` of a numeric constant and the key is constant, the output
    /// for `n` input documents (none when `n` is 0); nil when the group is not of that shape.
    func countOutput(_ n: Int) -> [BSONDocument]? {
        guard let key = id.constantValue else { return nil }
        var sums: [(String, BSONValue)] = []
        for a in accumulators {
            guard a.op == .sum, let c = a.argument.constantValue else { return nil }
            if c.isNumber {
                var product = NumericAccumulator(.multiply)
                product.combine(c)
                product.combine(Int32(exactly: n).map { .int32($0) } ?? .int64(Int64(n)))
                sums.append((a.field, product.value))
            } else {
                sums.append((a.field, .int32(0)))  // $sum ignores non-numbers
            }
        }
        guard n > 0 else { return [] }
        var doc: BSONDocument = ["_id": key]
        for (f, v) in sums { doc.append(f, v) }
        return [doc]
    }
}

/// The running state of a `$group`: groups in first-seen order.
struct GroupState: Sendable {
    let spec: GroupSpec
    private var index: [[UInt8]: Int] = [:]
    private var groups: [(id: BSONValue, states: [AccumulatorState])] = []
    /// Approximate bytes held.
    private(set) var bytes = 0

    init(_ spec: GroupSpec) {
        self.spec = spec
    }

    /// Folds in one document.
    mutating func add(_ doc: BSONDocument) throws(QueryError) {
        let id = try spec.id.evaluate(doc) ?? .null
        let key = IndexKeyEncoder.encode(id)
        let g: Int
        if let existing = index[key] {
            g = existing
        } else {
            g = groups.count
            index[key] = g
            groups.append((id, spec.accumulators.map { $0.makeState() }))
            bytes += key.count * 2 + AccumulatorState.size(id) + 64 * spec.accumulators.count + 64
        }
        for (i, a) in spec.accumulators.enumerated() {
            let v = try a.argument.evaluate(doc)
            bytes += groups[g].states[i].add(v, a.op)
        }
    }

    /// The output documents, one per group.
    func results() -> [BSONDocument] {
        groups.map { group in
            var doc: BSONDocument = ["_id": group.id]
            for (i, a) in spec.accumulators.enumerated() {
                doc.append(a.field, group.states[i].result)
            }
            return doc
        }
    }
}
