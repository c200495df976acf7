extension BSONDocument {
    /// Canonical extended JSON (every type explicit), in libbson's layout.
    public var canonicalExtendedJSON: String { extendedJSON(canonical: true) }

    /// Relaxed extended JSON (numbers and dates in their natural JSON form), for logs.
    public var relaxedExtendedJSON: String { extendedJSON(canonical: false) }

    private func extendedJSON(canonical: Bool) -> String {
        var writer = ExtendedJSONWriter(canonical: canonical)
        writer.write(document: self)
        return String(decoding: writer.out, as: UTF8.self)
    }

    /// Parses extended JSON 2.0 (canonical or relaxed, plus the legacy `$binary`/`$type`,
    /// `$regex`/`$options` and `$date`-string forms) into a document. Type wrappers must have
    /// exactly their keys and well-formed values; objects whose `$`-keys are not type wrappers
    /// (query operators, DBRefs) stay documents.
    public init(extendedJSON json: String) throws(BSONError) {
        let root = try JSONReader.parse(json, maxDepth: StrictChecker.maxDepth)
        guard case .object(let members) = root else { throw BSONError("extended JSON must be an object") }
        let reader = ExtendedJSONReader()
        guard case .document(let doc) = try reader.value(.object(members), depth: 0) else {
            throw BSONError("extended JSON top level must be a document, not a type wrapper")
        }
        try self.init(validating: doc.bytes)
    }
}

/// Turns JSON nodes into BSON values following the extended JSON 2.0 rules.
struct ExtendedJSONReader {
    /// Keys that make an object a type wrapper.
    static let wrapperKeys: Set<String> = [
        "$oid", "$symbol", "$numberInt", "$numberLong", "$numberDouble", "$numberDecimal", "$binary", "$code",
        "$timestamp", "$regularExpression", "$dbPointer", "$date", "$minKey", "$maxKey", "$undefined", "$uuid",
    ]

    func value(_ node: JSONNode, depth: Int) throws(BSONError) -> BSONValue {
        guard depth <= StrictChecker.maxDepth else { throw BSONError("extended JSON nested too deeply") }
        switch node {
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .null: return .null
        case .number(let text): return try relaxedNumber(text)
        case .array(let items):
            var out = [BSONValue]()
            out.reserveCapacity(items.count)
            for item in items { out.append(try value(item, depth: depth + 1)) }
            return .array(out)
        case .object(let members):
            if let wrapped = try wrapper(members, depth: depth) { return wrapped }
            return .document(try document(members, depth: depth))
        }
    }

    func document(_ members: [(key: String, value: JSONNode)], depth: Int) throws(BSONError) -> BSONDocument {
        var doc = BSONDocument()
        for (key, node) in members {
            guard !key.utf8.contains(0) else { throw BSONError("field name contains a NUL byte") }
            doc.append(key, try value(node, depth: depth + 1))
        }
        return doc
    }

    /// A relaxed-mode number: integers become int32 or int64 when they fit, anything else a double.
    func relaxedNumber(_ text: String) throws(BSONError) -> BSONValue {
        if !text.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            if let v = Int32(text) { return .int32(v) }
            if let v = Int64(text) { return .int64(v) }
        }
        guard let d = Double(text) else { throw BSONError("bad number \(text)") }
        return .double(d)
    }

    /// The typed value if `members` form a type wrapper, nil if they are a plain document.
    func wrapper(_ members: [(key: String, value: JSONNode)], depth: Int) throws(BSONError) -> BSONValue? {
        let keys = members.map(\.key)
        func only(_ expected: Set<String>) throws(BSONError) -> [String: JSONNode] {
            guard keys.count == expected.count, Set(keys) == expected else {
                throw BSONError("extended JSON \(expected.sorted()) wrapper must have exactly those keys, has \(keys)")
            }
            return Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        }
        func str(_ node: JSONNode?, _ what: String) throws(BSONError) -> String {
            guard case .string(let s)? = node else { throw BSONError("\(what) must be a string") }
            return s
        }
        // Legacy regular expression: {"$regex": "…", "$options": "…"} (only with both, both strings,
        // so the `$regex` query operator stays a document).
        if Set(keys) == ["$regex", "$options"], keys.count == 2 {
            let m = try only(["$regex", "$options"])
            if case .string(let p)? = m["$regex"], case .string(let o)? = m["$options"] {
                return try regex(pattern: p, options: o)
            }
            return nil
        }
        guard let key = keys.first(where: { Self.wrapperKeys.contains($0) }) else { return nil }
        switch key {
        case "$oid":
            let s = try str(try only(["$oid"])["$oid"], "$oid")
            guard let id = ObjectId(hex: s) else { throw BSONError("$oid must be 24 hex digits") }
            return .objectId(id)
        case "$symbol":
            return .symbol(try str(try only(["$symbol"])["$symbol"], "$symbol"))
        case "$numberInt":
            let s = try str(try only(["$numberInt"])["$numberInt"], "$numberInt")
            guard isIntegerText(s), let v = Int32(s) else { throw BSONError("bad $numberInt \(s)") }
            return .int32(v)
        case "$numberLong":
            let s = try str(try only(["$numberLong"])["$numberLong"], "$numberLong")
            guard isIntegerText(s), let v = Int64(s) else { throw BSONError("bad $numberLong \(s)") }
            return .int64(v)
        case "$numberDouble":
            return .double(try double(try str(try only(["$numberDouble"])["$numberDouble"], "$numberDouble")))
        case "$numberDecimal":
            let s = try str(try only(["$numberDecimal"])["$numberDecimal"], "$numberDecimal")
            guard let d = Decimal128(s) else { throw BSONError("bad $numberDecimal \(s)") }
            return .decimal128(d)
        case "$binary":
            return try binary(members)
        case "$uuid":
            let s = try str(try only(["$uuid"])["$uuid"], "$uuid")
            guard let data = uuidBytes(s) else { throw BSONError("bad $uuid \(s)") }
            return .binary(BSONBinary(subtype: 4, data: data))
        case "$code":
            if keys.contains("$scope") {
                let m = try only(["$code", "$scope"])
                let code = try str(m["$code"], "$code")
                guard case .object(let scopeMembers)? = m["$scope"], try wrapper(scopeMembers, depth: depth + 1) == nil else {
                    throw BSONError("$scope must be a document")
                }
                return .javascriptWithScope(BSONCodeWithScope(code: code, scope: try document(scopeMembers, depth: depth + 1)))
            }
            return .javascript(try str(try only(["$code"])["$code"], "$code"))
        case "$timestamp":
            guard case .object(let tm)? = try only(["$timestamp"])["$timestamp"] else {
                throw BSONError("$timestamp must be a document")
            }
            let parts = try ExtendedJSONReader.exact(tm, ["t", "i"], "$timestamp")
            guard case .number(let t)? = parts["t"], case .number(let i)? = parts["i"],
                  isIntegerText(t), isIntegerText(i), let tv = UInt32(t), let iv = UInt32(i)
            else { throw BSONError("$timestamp t and i must be unsigned 32-bit integers") }
            return .timestamp(BSONTimestamp(time: tv, increment: iv))
        case "$regularExpression":
            guard case .object(let rm)? = try only(["$regularExpression"])["$regularExpression"] else {
                throw BSONError("$regularExpression must be a document")
            }
            let parts = try ExtendedJSONReader.exact(rm, ["pattern", "options"], "$regularExpression")
            return try regex(pattern: try str(parts["pattern"], "pattern"), options: try str(parts["options"], "options"))
        case "$dbPointer":
            guard case .object(let pm)? = try only(["$dbPointer"])["$dbPointer"] else {
                throw BSONError("$dbPointer must be a document")
            }
            let parts = try ExtendedJSONReader.exact(pm, ["$ref", "$id"], "$dbPointer")
            let ref = try str(parts["$ref"], "$ref")
            guard case .object(let idMembers)? = parts["$id"], case .objectId(let id)? = try wrapper(idMembers, depth: depth + 1) else {
                throw BSONError("$dbPointer $id must be an $oid")
            }
            return .dbPointer(BSONDBPointer(ref: ref, id: id))
        case "$date":
            switch try only(["$date"])["$date"] {
            case .string(let s)?:
                guard let ms = parseISODate(s) else { throw BSONError("bad $date \(s)") }
                return .datetime(ms)
            case .object(let dm)?:
                let m = try ExtendedJSONReader.exact(dm, ["$numberLong"], "$date")
                let text = try str(m["$numberLong"], "$numberLong")
                guard isIntegerText(text), let ms = Int64(text) else { throw BSONError("bad $date $numberLong \(text)") }
                return .datetime(ms)
            default:
                throw BSONError("$date must be an ISO-8601 string or a $numberLong")
            }
        case "$minKey", "$maxKey":
            guard case .number(let n)? = try only([key])[key], n == "1" else { throw BSONError("\(key) must be 1") }
            return key == "$minKey" ? .minKey : .maxKey
        case "$undefined":
            guard case .bool(true)? = try only(["$undefined"])["$undefined"] else { throw BSONError("$undefined must be true") }
            return .undefined
        default:
            return nil
        }
    }

    static func exact(_ members: [(key: String, value: JSONNode)], _ expected: Set<String>, _ what: String) throws(BSONError) -> [String: JSONNode] {
        guard members.count == expected.count, Set(members.map(\.key)) == expected else {
            throw BSONError("\(what) must have exactly the keys \(expected.sorted())")
        }
        return Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    func binary(_ members: [(key: String, value: JSONNode)]) throws(BSONError) -> BSONValue {
        let base64: String
        let subtype: String
        if members.count == 2, Set(members.map(\.key)) == ["$binary", "$type"] {
            // Legacy form {"$binary": "…", "$type": "hh"}.
            let m = try ExtendedJSONReader.exact(members, ["$binary", "$type"], "$binary")
            guard case .string(let b)? = m["$binary"], case .string(let t)? = m["$type"] else {
                throw BSONError("legacy $binary and $type must be strings")
            }
            (base64, subtype) = (b, t)
        } else {
            guard case .object(let inner)? = try ExtendedJSONReader.exact(members, ["$binary"], "$binary")["$binary"] else {
                throw BSONError("$binary must be a document")
            }
            let m = try ExtendedJSONReader.exact(inner, ["base64", "subType"], "$binary")
            guard case .string(let b)? = m["base64"], case .string(let t)? = m["subType"] else {
                throw BSONError("$binary base64 and subType must be strings")
            }
            (base64, subtype) = (b, t)
        }
        let digits = Array(subtype.utf8)
        guard (1...2).contains(digits.count), let sub = UInt8(subtype, radix: 16) else {
            throw BSONError("$binary subType must be one or two hex digits")
        }
        guard let data = base64Decode(base64) else { throw BSONError("$binary base64 is not valid padded base64") }
        return .binary(BSONBinary(subtype: sub, data: data))
    }

    func regex(pattern: String, options: String) throws(BSONError) -> BSONValue {
        guard !pattern.utf8.contains(0), !options.utf8.contains(0) else {
            throw BSONError("regular expression contains a NUL byte")
        }
        return .regex(BSONRegex(pattern: pattern, options: String(options.sorted())))
    }

    /// A `$numberDouble` string: a decimal number or Infinity, -Infinity, NaN.
    func double(_ s: String) throws(BSONError) -> Double {
        switch s {
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        case "NaN": return .nan
        default:
            let allowed = s.utf8.allSatisfy { (0x30...0x39).contains($0) || "+-.eE".utf8.contains($0) }
            guard allowed, s.utf8.contains(where: { (0x30...0x39).contains($0) }), let d = Double(s) else {
                throw BSONError("bad $numberDouble \(s)")
            }
            return d
        }
    }
}
