/// Decodes the value of one element. `range` is exactly the value's bytes.
func decodeValue(typeByte: UInt8, bytes: [UInt8], range: Range<Int>) throws(BSONError) -> BSONValue {
    let o = range.lowerBound
    func string(at p: Int, limit: Int) throws(BSONError) -> String {
        guard let n = readInt32(bytes, p), n >= 1, p + 4 + Int(n) <= limit, bytes[p + 4 + Int(n) - 1] == 0 else {
            throw BSONError("bad string", offset: p)
        }
        return String(decoding: bytes[(p + 4)..<(p + 4 + Int(n) - 1)], as: UTF8.self)
    }
    func cstring(at p: Int) throws(BSONError) -> (String, Int) {
        var i = p
        while i < range.upperBound && bytes[i] != 0 { i += 1 }
        guard i < range.upperBound else { throw BSONError("unterminated cstring", offset: p) }
        return (String(decoding: bytes[p..<i], as: UTF8.self), i + 1)
    }
    func subdocument(_ r: Range<Int>) throws(BSONError) -> BSONDocument {
        guard r.count >= 5, bytes[r.upperBound - 1] == 0 else { throw BSONError("bad subdocument", offset: r.lowerBound) }
        return BSONDocument(trusted: Array(bytes[r]))
    }
    guard let type = BSONType(rawValue: typeByte) else { throw BSONError("unknown type", offset: o) }
    switch type {
    case .double:
        guard let v = readUInt64(bytes, o) else { throw BSONError("truncated double", offset: o) }
        return .double(Double(bitPattern: v))
    case .string: return .string(try string(at: o, limit: range.upperBound))
    case .javascript: return .javascript(try string(at: o, limit: range.upperBound))
    case .symbol: return .symbol(try string(at: o, limit: range.upperBound))
    case .document: return .document(try subdocument(range))
    case .array:
        let doc = try subdocument(range)
        return .array(doc.elements.map { $0.value })
    case .binary:
        guard range.count >= 5 else { throw BSONError("truncated binary", offset: o) }
        let sub = bytes[o + 4]
        var data = Array(bytes[(o + 5)..<range.upperBound])
        if sub == 2 {  // old binary: an inner int32 length precedes the payload
            guard data.count >= 4, let inner = readInt32(data, 0), Int(inner) == data.count - 4 else {
                throw BSONError("bad old-style binary", offset: o)
            }
            data = Array(data[4...])
            return .binary(BSONBinary(subtype: 2, data: data))
        }
        return .binary(BSONBinary(subtype: sub, data: data))
    case .undefined: return .undefined
    case .objectId:
        guard let id = ObjectId(bytes: bytes[o..<(o + 12)]) else { throw BSONError("bad objectid", offset: o) }
        return .objectId(id)
    case .bool:
        switch bytes[o] {
        case 0: return .bool(false)
        case 1: return .bool(true)
        default: throw BSONError("invalid boolean", offset: o)
        }
    case .datetime:
        guard let v = readUInt64(bytes, o) else { throw BSONError("truncated date", offset: o) }
        return .datetime(Int64(bitPattern: v))
    case .null: return .null
    case .regex:
        let (pattern, next) = try cstring(at: o)
        let (options, _) = try cstring(at: next)
        return .regex(BSONRegex(pattern: pattern, options: options))
    case .dbPointer:
        let ref = try string(at: o, limit: range.upperBound - 12)
        guard let id = ObjectId(bytes: bytes[(range.upperBound - 12)..<range.upperBound]) else {
            throw BSONError("bad dbpointer", offset: o)
        }
        return .dbPointer(BSONDBPointer(ref: ref, id: id))
    case .javascriptWithScope:
        guard range.count >= 4 + 5 + 5 else { throw BSONError("bad code with scope", offset: o) }
        let code = try string(at: o + 4, limit: range.upperBound)
        guard let codeLen = readInt32(bytes, o + 4) else { throw BSONError("bad code with scope", offset: o) }
        let scopeStart = o + 8 + Int(codeLen)
        guard scopeStart < range.upperBound else { throw BSONError("bad code with scope", offset: o) }
        let scope = try subdocument(scopeStart..<range.upperBound)
        return .javascriptWithScope(BSONCodeWithScope(code: code, scope: scope))
    case .int32:
        guard let v = readInt32(bytes, o) else { throw BSONError("truncated int32", offset: o) }
        return .int32(v)
    case .timestamp:
        guard let v = readUInt64(bytes, o) else { throw BSONError("truncated timestamp", offset: o) }
        return .timestamp(BSONTimestamp(time: UInt32(v >> 32), increment: UInt32(truncatingIfNeeded: v)))
    case .int64:
        guard let v = readUInt64(bytes, o) else { throw BSONError("truncated int64", offset: o) }
        return .int64(Int64(bitPattern: v))
    case .decimal128:
        guard let lo = readUInt64(bytes, o), let hi = readUInt64(bytes, o + 8) else {
            throw BSONError("truncated decimal128", offset: o)
        }
        return .decimal128(Decimal128(low: lo, high: hi))
    case .minKey: return .minKey
    case .maxKey: return .maxKey
    }
}

/// The complete structural check of a document, in one pass and without allocating: every
/// element parses within its parent, lengths agree, strings are terminated where their length says
/// and are valid UTF-8 (keys, strings, code, symbols, regex parts, DBPointer namespaces), booleans
/// are 0 or 1, old-style binary lengths agree, code-with-scope lengths agree, and nesting is bounded.
/// (libbson 1.23's `bson_validate` misses several of these, e.g. bad UTF-8 in string values.)
enum StrictChecker {
    /// Levels of nesting accepted, the top-level document being level 1 (``BSONDocument/maxDepth``).
    static let maxDepth = BSONDocument.maxDepth

    static func check(_ bytes: [UInt8], start: Int, end: Int, depth: Int) throws(BSONError) {
        guard depth < maxDepth else {
            throw BSONError("document nested deeper than \(maxDepth) levels", offset: start)
        }
        guard start >= 0, end <= bytes.count, end - start >= 5, let n = readInt32(bytes, start),
              Int(n) == end - start, bytes[end - 1] == 0
        else {
            throw BSONError("bad document length", offset: start)
        }
        var offset = start + 4
        while offset < end - 1 {
            let e = try parseElement(bytes, at: offset, end: end - 1)
            guard isValidUTF8(bytes, e.keyRange) else { throw BSONError("key is not valid UTF-8", offset: e.start) }
            try checkValue(e, bytes: bytes, depth: depth)
            offset = e.valueRange.upperBound
        }
        guard offset == end - 1 else { throw BSONError("document does not end where its length says", offset: offset) }
    }

    /// Checks a length-prefixed string starting at `p` that must end exactly at `end`.
    static func checkString(_ bytes: [UInt8], at p: Int, end: Int, element: Int) throws(BSONError) {
        guard let n = readInt32(bytes, p), n >= 1, p + 4 + Int(n) == end, bytes[end - 1] == 0 else {
            throw BSONError("bad string length or terminator", offset: element)
        }
        guard isValidUTF8(bytes, (p + 4)..<(end - 1)) else { throw BSONError("string is not valid UTF-8", offset: element) }
    }

    static func checkValue(_ e: BSONElement, bytes: [UInt8], depth: Int) throws(BSONError) {
        let r = e.valueRange
        switch BSONType(rawValue: e.typeByte) {
        case .document, .array:
            try check(bytes, start: r.lowerBound, end: r.upperBound, depth: depth + 1)
        case .javascriptWithScope:
            guard r.count >= 14, let total = readInt32(bytes, r.lowerBound), Int(total) == r.count,
                  let codeLen = readInt32(bytes, r.lowerBound + 4), codeLen >= 1,
                  Int(codeLen) <= r.count - 13
            else { throw BSONError("bad code with scope", offset: e.start) }
            let scopeStart = r.lowerBound + 8 + Int(codeLen)
            try checkString(bytes, at: r.lowerBound + 4, end: scopeStart, element: e.start)
            try check(bytes, start: scopeStart, end: r.upperBound, depth: depth + 1)
        case .string, .javascript, .symbol:
            try checkString(bytes, at: r.lowerBound, end: r.upperBound, element: e.start)
        case .dbPointer:
            try checkString(bytes, at: r.lowerBound, end: r.upperBound - 12, element: e.start)
        case .regex:
            // valueSize found both terminators inside the element.
            var i = r.lowerBound
            while bytes[i] != 0 { i += 1 }
            guard isValidUTF8(bytes, r.lowerBound..<i), isValidUTF8(bytes, (i + 1)..<(r.upperBound - 1)) else {
                throw BSONError("regex is not valid UTF-8", offset: e.start)
            }
        case .bool:
            guard bytes[r.lowerBound] <= 1 else { throw BSONError("invalid boolean", offset: e.start) }
        case .binary:
            if bytes[r.lowerBound + 4] == 2 {
                guard r.count >= 9, let inner = readInt32(bytes, r.lowerBound + 5), Int(inner) == r.count - 9 else {
                    throw BSONError("bad old-style binary", offset: e.start)
                }
            }
        case .double, .objectId, .datetime, .int32, .timestamp, .int64, .decimal128,
             .undefined, .null, .minKey, .maxKey:
            break  // fixed sizes, already bounded by parseElement
        case nil:
            throw BSONError("unknown BSON type", offset: e.start)
        }
    }
}
