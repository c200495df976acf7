import BSON

/// Filters, updates, projections, sorts and pipelines, from the operators `Query` parses.
extension Grammar {
    static let comparisonOperators = ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"]
    static let typeNames: [BSONValue] = [
        "double", "string", "object", "array", "binData", "undefined", "objectId", "bool", "date", "null",
        "regex", "dbPointer", "javascript", "symbol", "int", "timestamp", "long", "decimal", "minKey",
        "maxKey", "number", "nope", .int32(1), .int32(-1), .int32(19), .int32(127), .int32(128), .double(2.5),
    ]

    /// A query filter: field conditions, logical operators, `$expr`, and unsupported operators.
    public mutating func filter(depth: Int = 2) -> BSONDocument {
        var doc = BSONDocument()
        for _ in 0..<smallCount(3) {
            switch input.choose(depth > 0 ? 9 : 6) {
            case 0, 1: doc.append(fieldName(), value(depth: 1))
            case 2, 3, 4: doc.append(fieldName(), .document(condition(depth: depth)))
            case 5: doc.append(input.pick(["$comment", "$where", "$text", "$alwaysTrue", "$alwaysFalse", "$near", "$jsonSchema"]), wild(.int32(1)))
            case 6, 7: doc.append(input.pick(["$and", "$or", "$nor"]), wild(.array((0..<smallCount(3)).map { _ in .document(filter(depth: depth - 1)) })))
            default: doc.append("$expr", expression(depth: depth))
            }
        }
        return doc
    }

    /// The operator document of one field: `{$gt: 5, $lt: …}`.
    public mutating func condition(depth: Int) -> BSONDocument {
        var doc = BSONDocument()
        for _ in 0..<(1 + smallCount(2)) {
            switch input.choose(14) {
            case 0, 1: doc.append(input.pick(Self.comparisonOperators), value(depth: 1))
            case 2: doc.append(input.pick(["$in", "$nin", "$all"]), wild(.array(array(depth: 1))))
            case 3: doc.append("$exists", wild(.bool(input.chance(50))))
            case 4: doc.append("$type", wild(input.chance(70) ? input.pick(Self.typeNames) : .array([input.pick(Self.typeNames), number()])))
            case 5: doc.append("$size", wild(number()))
            case 6: doc.append("$mod", wild(.array((0..<input.pick([2, 2, 2, 0, 1, 3])).map { _ in number() })))
            case 7: doc.append("$regex", wild(input.chance(50) ? .regex(regex()) : .string(regex().pattern)))
            case 8: doc.append("$options", wild(.string(regex().options)))
            case 9: doc.append("$not", wild(input.chance(50) ? .document(condition(depth: depth - 1)) : .regex(regex())))
            case 10: doc.append("$elemMatch", wild(.document(depth > 0 ? filter(depth: depth - 1) : condition(depth: 0))))
            case 11: doc.append("$eq", .document(document(depth: 1)))
            case 12: doc.append(input.pick(["$geoWithin", "$near", "$bitsAllSet", "$foo", "$where"]), value(depth: 1))
            default: doc.append("$in", .array([.regex(regex()), number(), .null]))
            }
        }
        return doc
    }

    /// An aggregation expression: a field path, a literal, or an operator document.
    public mutating func expression(depth: Int) -> BSONValue {
        guard depth > 0, input.chance(70) else {
            return input.chance(50) ? .string("$" + fieldName()) : value(depth: 0)
        }
        let unary = ["$toLower", "$toUpper", "$literal", "$size", "$not", "$abs", "$type"]
        let variadic = ["$add", "$subtract", "$multiply", "$divide", "$concat", "$and", "$or", "$eq", "$ne",
                        "$gt", "$gte", "$lt", "$lte", "$cmp", "$ifNull", "$arrayElemAt", "$mod", "$in", "$max", "$min"]
        switch input.choose(4) {
        case 0: return .document([input.pick(unary): expression(depth: depth - 1)])
        case 1: return .document(["$cond": .array((0..<input.pick([3, 3, 2, 4])).map { _ in expression(depth: depth - 1) })])
        case 2: return .document(["$cond": .document(["if": expression(depth: depth - 1), "then": expression(depth: depth - 1), "else": expression(depth: depth - 1)])])
        default:
            return .document([input.pick(variadic): .array((0..<smallCount(3)).map { _ in expression(depth: depth - 1) })])
        }
    }

    /// An update: operator document, replacement document, or pipeline.
    public mutating func update() -> BSONValue {
        switch input.choose(6) {
        case 0: return .document(document(depth: 2))
        case 1: return .array((0..<smallCount(3)).map { _ in .document(stage(depth: 1)) })
        default:
            var doc = BSONDocument()
            for _ in 0..<(1 + smallCount(2)) { doc.append(input.pick(Self.updateOperators), .document(updateOperand())) }
            return .document(doc)
        }
    }

    static let updateOperators = [
        "$set", "$unset", "$inc", "$mul", "$min", "$max", "$rename", "$push", "$addToSet", "$pop", "$pull",
        "$pullAll", "$currentDate", "$setOnInsert", "$bit", "$foo",
    ]

    /// The `{path: operand}` document of one update operator, with `$each`/`$slice`/`$position`/`$sort` modifiers.
    mutating func updateOperand() -> BSONDocument {
        var doc = BSONDocument()
        for _ in 0..<(1 + smallCount(2)) {
            let operand: BSONValue
            switch input.choose(5) {
            case 0:
                var each: BSONDocument = ["$each": wild(.array(array(depth: 1)))]
                if input.chance(50) { each.append("$slice", number()) }
                if input.chance(50) { each.append("$position", number()) }
                if input.chance(50) { each.append("$sort", input.chance(50) ? number() : .document(sort())) }
                operand = .document(each)
            case 1: operand = .document(["$type": input.pick(["date", "timestamp", "x"])])
            case 2: operand = input.chance(50) ? .string(fieldName()) : .document(condition(depth: 1))
            default: operand = number()
            }
            doc.append(fieldName(), operand)
        }
        return doc
    }

    /// A projection: inclusions, exclusions, `$slice`, `$elemMatch`, `$meta`, positional and expressions.
    public mutating func projection() -> BSONDocument {
        var doc = BSONDocument()
        for _ in 0..<smallCount(3) {
            switch input.choose(6) {
            case 0, 1: doc.append(fieldName(), input.pick([.int32(1), .int32(0), .bool(true), .bool(false), number()]))
            case 2: doc.append(fieldName(), .document(["$slice": input.chance(50) ? number() : .array([number(), number()])]))
            case 3: doc.append(fieldName(), .document(["$elemMatch": .document(filter(depth: 1))]))
            case 4: doc.append(fieldName(), .document(["$meta": input.pick(["textScore", "indexKey", "x"])]))
            default: doc.append(fieldName(), expression(depth: 2))
            }
        }
        return doc
    }

    /// A sort specification.
    public mutating func sort() -> BSONDocument {
        var doc = BSONDocument()
        for _ in 0..<smallCount(3) {
            doc.append(fieldName(), wild(input.pick([.int32(1), .int32(-1), .int32(0), .int32(2), .double(-1), .double(.nan), .document(["$meta": "textScore"])])))
        }
        return doc
    }

    /// A pipeline of up to four stages.
    public mutating func pipeline() -> [BSONValue] {
        (0..<smallCount(4)).map { _ in wild(.document(stage(depth: 2))) }
    }

    /// One aggregation stage.
    public mutating func stage(depth: Int) -> BSONDocument {
        switch input.choose(18) {
        case 0: return ["$match": .document(filter(depth: depth))]
        case 1: return [input.pick(["$project", "$addFields", "$set"]): .document(projection())]
        case 2: return ["$unset": input.chance(50) ? .string(fieldName()) : .array([.string(fieldName()), number()])]
        case 3: return ["$sort": .document(sort())]
        case 4, 5: return [input.pick(["$limit", "$skip", "$sample"]): input.chance(80) ? number() : .document(["size": number()])]
        case 6: return ["$count": wild(.string(input.pick(["n", "", "$x", "a.b", "_id"])))]
        case 7:
            if input.chance(50) { return ["$unwind": .string("$" + fieldName())] }
            return ["$unwind": .document(["path": .string("$" + fieldName()), "includeArrayIndex": .string(fieldName()),
                                         "preserveNullAndEmptyArrays": wild(.bool(input.chance(50)))])]
        case 8, 9:
            var group: BSONDocument = ["_id": expression(depth: 1)]
            for _ in 0..<smallCount(3) {
                let acc = input.pick(["$sum", "$avg", "$min", "$max", "$first", "$last", "$push", "$addToSet", "$count", "$median"])
                group.append(fieldName(), .document([acc: acc == "$count" ? .document([:]) : expression(depth: 1)]))
            }
            return ["$group": .document(group)]
        case 10: return [input.pick(["$replaceRoot", "$replaceWith"]): input.chance(50) ? .document(["newRoot": expression(depth: 1)]) : expression(depth: 1)]
        case 11: return ["$sortByCount": expression(depth: 1)]
        case 12: return ["$facet": .document(["f": .array(depth > 0 ? (0..<smallCount(2)).map { _ in .document(stage(depth: depth - 1)) } : [])])]
        case 13: return ["$lookup": .document(["from": "c", "localField": .string(fieldName()), "foreignField": .string(fieldName()), "as": "j"])]
        case 14: return [input.pick(["$out", "$merge", "$geoNear", "$indexStats", "$collStats", "$currentOp", "$bucket", "$unionWith"]): value(depth: 1)]
        case 15: return ["$project": .document([fieldName(): expression(depth: 2)])]
        default: return document(depth: 1)
        }
    }
}
