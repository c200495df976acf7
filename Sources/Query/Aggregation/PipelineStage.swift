import BSON

/// One parsed stage of an aggregation pipeline.
enum PipelineStage: Sendable {
    case match(Filter)
    case reshape(AggregationProjection)
    case sort(SortSpec)
    case skip(Int)
    case limit(Int)
    case group(GroupSpec)
    case count(String)
    case unwind(UnwindSpec)
    case replaceRoot(Expression, stage: String)

    /// Stages that must see every input before producing output.
    var isBlocking: Bool {
        switch self {
        case .sort, .group, .count: return true
        default: return false
        }
    }

    /// Real MongoDB stages this engine does not run (answered with NotImplemented, 238).
    static let unsupported: Set<String> = [
        "$lookup", "$graphLookup", "$facet", "$out", "$merge", "$bucket", "$bucketAuto", "$sample",
        "$sortByCount", "$geoNear", "$indexStats", "$collStats", "$currentOp", "$listSessions",
        "$listLocalSessions", "$redact", "$unionWith", "$densify", "$fill", "$setWindowFields",
        "$documents", "$changeStream", "$search", "$searchMeta", "$planCacheStats", "$listSearchIndexes",
    ]

    /// Parses `{$name: spec}`.
    static func parse(_ doc: BSONDocument, variables: [String: BSONValue]) throws(QueryError) -> PipelineStage {
        let pairs = doc.pairs
        guard pairs.count == 1, let (name, spec) = pairs.first else {
            throw QueryError.location(40323, "A pipeline stage specification object must contain exactly one field.")
        }
        switch name {
        case "$match":
            guard case .document(let d) = spec else {
                throw QueryError.location(15959, "the match filter must be an expression in an object")
            }
            do {
                return .match(try Filter(d))
            } catch let e as QueryError {
                throw e
            } catch {
                throw QueryError.badValue("\(error)")
            }
        case "$project":
            guard case .document(let d) = spec else {
                throw QueryError.location(15969, "$project specification must be an object")
            }
            return .reshape(try AggregationProjection.project(d, variables: variables))
        case "$addFields", "$set":
            guard case .document(let d) = spec else {
                throw QueryError.location(40272, "\(name) specification stage must be an object, got \(spec.type.alias)")
            }
            return .reshape(try AggregationProjection.addFields(d, stage: name, variables: variables))
        case "$unset":
            return .reshape(try AggregationProjection.unset(spec))
        case "$sort":
            guard case .document(let d) = spec else {
                throw QueryError.location(15973, "the $sort key specification must be an object")
            }
            guard !d.isEmpty else { throw QueryError.location(15976, "$sort stage must have at least one sort key") }
            do {
                return .sort(try SortSpec(d))
            } catch let e as QueryError {
                throw e
            } catch {
                throw QueryError.badValue("\(error)")
            }
        case "$skip":
            guard spec.isNumber else { throw QueryError.location(5107200, "invalid argument to $skip stage: Expected a number in: $skip: \(spec)") }
            guard let n = spec.intValue else { throw QueryError.location(5107201, "invalid argument to $skip stage: Cannot represent as a 64-bit integer: $skip: \(spec)") }
            guard n >= 0 else { throw QueryError.location(5107200, "invalid argument to $skip stage: Expected a non-negative number in: $skip: \(n)") }
            return .skip(n)
        case "$limit":
            guard spec.isNumber else { throw QueryError.location(15957, "the limit must be specified as a number") }
            guard let n = spec.intValue else { throw QueryError.location(5107201, "invalid argument to $limit stage: Cannot represent as a 64-bit integer: $limit: \(spec)") }
            guard n > 0 else { throw QueryError.location(15958, "the limit must be positive") }
            return .limit(n)
        case "$group":
            return .group(try GroupSpec.parse(spec, variables: variables))
        case "$count":
            return .count(try parseCountField(spec))
        case "$unwind":
            return .unwind(try UnwindSpec.parse(spec))
        case "$replaceRoot":
            guard case .document(let d) = spec else {
                throw QueryError.location(40229, "expected an object as specification for $replaceRoot stage, got \(spec.type.alias)")
            }
            var newRoot: Expression?
            for (key, value) in d {
                guard key == "newRoot" else { throw QueryError.location(40415, "BSON field '$replaceRoot.\(key)' is an unknown field.") }
                newRoot = try Expression.parse(value, variables: variables)
            }
            guard let newRoot else { throw QueryError.location(40231, "no newRoot specified for the $replaceRoot stage") }
            return .replaceRoot(newRoot, stage: name)
        case "$replaceWith":
            return .replaceRoot(try Expression.parse(spec, variables: variables), stage: name)
        default:
            if unsupported.contains(name) {
                throw QueryError(code: 238, codeName: "NotImplemented", message: "Aggregation stage \(name) is not implemented yet")
            }
            throw QueryError.location(40324, "Unrecognized pipeline stage name: '\(name)'")
        }
    }

    static func parseCountField(_ spec: BSONValue) throws(QueryError) -> String {
        guard case .string(let s) = spec else { throw QueryError.location(40156, "the count field must be a non-empty string") }
        guard !s.isEmpty else { throw QueryError.location(40157, "the count field must be a non-empty string") }
        guard !s.hasPrefix("$") else { throw QueryError.location(40158, "the count field cannot be a $-prefixed path") }
        guard !s.contains(".") else { throw QueryError.location(40160, "the count field cannot contain '.'") }
        return s
    }
}

/// A parsed `$unwind`.
struct UnwindSpec: Sendable {
    let path: FieldPath
    let includeArrayIndex: String?
    let preserveNullAndEmptyArrays: Bool

    static func parse(_ spec: BSONValue) throws(QueryError) -> UnwindSpec {
        var pathString: String?
        var index: String?
        var preserve = false
        switch spec {
        case .string(let s):
            pathString = s
        case .document(let d):
            for (key, value) in d {
                switch key {
                case "path":
                    guard case .string(let s) = value else {
                        throw QueryError.location(28808, "expected a string as the path for $unwind stage, got \(value.type.alias)")
                    }
                    pathString = s
                case "includeArrayIndex":
                    guard case .string(let s) = value else {
                        throw QueryError.location(28810, "expected a non-empty string for the includeArrayIndex option to $unwind stage")
                    }
                    guard !s.isEmpty else {
                        throw QueryError.location(28810, "expected a non-empty string for the includeArrayIndex option to $unwind stage")
                    }
                    guard !s.hasPrefix("$") else {
                        throw QueryError.location(28822, "includeArrayIndex option to $unwind stage should not be prefixed with a '$': \(s)")
                    }
                    index = s
                case "preserveNullAndEmptyArrays":
                    guard case .bool(let b) = value else {
                        throw QueryError.location(28809, "expected a boolean for the preserveNullAndEmptyArrays option to $unwind stage")
                    }
                    preserve = b
                default:
                    throw QueryError.location(28811, "unrecognized option to $unwind stage: \(key)")
                }
            }
        default:
            throw QueryError.location(15981, "expected either a string or an object as specification for $unwind stage, got \(spec.type.alias)")
        }
        guard let pathString else { throw QueryError.location(28812, "No path specified to $unwind stage") }
        guard pathString.hasPrefix("$") else {
            throw QueryError.location(28818, "path option to $unwind stage should be prefixed with a '$': \(pathString)")
        }
        let path = try Expression.parsePath(String(pathString.dropFirst()))
        return UnwindSpec(path: path, includeArrayIndex: index, preserveNullAndEmptyArrays: preserve)
    }

    /// The documents one input document unwinds into.
    func apply(_ doc: BSONDocument) throws(QueryError) -> [BSONDocument] {
        let value = doc.value(atPath: path.dotted)
        switch value {
        case .array(let a)? where !a.isEmpty:
            var out: [BSONDocument] = []
            out.reserveCapacity(a.count)
            for (i, e) in a.enumerated() {
                var d = try set(doc, path, e)
                if let includeArrayIndex { d = try set(d, FieldPath(includeArrayIndex), .int64(Int64(i))) }
                out.append(d)
            }
            return out
        case nil, .null?, .array?:
            guard preserveNullAndEmptyArrays else { return [] }
            var d = doc
            if case .array? = value { d = try UnwindSpec.remove(doc, path) }
            if let includeArrayIndex { d = try set(d, FieldPath(includeArrayIndex), .null) }
            return [d]
        case .some:
            guard let includeArrayIndex else { return [doc] }
            return [try set(doc, FieldPath(includeArrayIndex), .null)]
        }
    }

    private func set(_ doc: BSONDocument, _ path: FieldPath, _ value: BSONValue) throws(QueryError) -> BSONDocument {
        do {
            return try DocumentEditor.edit(doc, path, create: true) { _ in .set(value) } ?? doc
        } catch let e as QueryError {
            throw e
        } catch {
            throw QueryError.badValue("\(error)")
        }
    }

    static func remove(_ doc: BSONDocument, _ path: FieldPath) throws(QueryError) -> BSONDocument {
        do {
            return try DocumentEditor.edit(doc, path, create: false) { _ in .remove } ?? doc
        } catch let e as QueryError {
            throw e
        } catch {
            throw QueryError.badValue("\(error)")
        }
    }
}
