extension BSONDocument {
    /// Builds a document from (key, value) pairs, in order.
    public init(_ pairs: [(String, BSONValue)]) {
        self.init()
        for (k, v) in pairs { append(k, v) }
    }

    /// Appends a field at the end (no check for an existing key, as in BSON itself).
    public mutating func append(_ key: String, _ value: BSONValue) {
        bytes.removeLast()
        bytes.append(value.type.rawValue)
        appendCString(&bytes, key)
        encodeValue(value, into: &bytes)
        bytes.append(0)
        patchLength()
    }

    /// Appends an already-encoded element (type byte, key, value) taken from another document.
    public mutating func append(raw element: BSONElement) {
        bytes.removeLast()
        bytes.append(contentsOf: element.rawElement)
        bytes.append(0)
        patchLength()
    }

    /// Appends a binary field whose payload is copied straight from `payload`.
    public mutating func appendBinary(_ key: String, subtype: UInt8, payload: some Collection<UInt8>) {
        bytes.removeLast()
        bytes.append(BSONType.binary.rawValue)
        appendCString(&bytes, key)
        appendInt32(&bytes, Int32(truncatingIfNeeded: payload.count))
        bytes.append(subtype)
        bytes.append(contentsOf: payload)
        bytes.append(0)
        patchLength()
    }

    /// Sets `key` to `value`: replaces the first field of that name in place, or appends it.
    public mutating func set(_ key: String, _ value: BSONValue) {
        guard let e = element(forKey: key) else {
            append(key, value)
            return
        }
        var replacement = [UInt8]()
        replacement.append(value.type.rawValue)
        appendCString(&replacement, key)
        encodeValue(value, into: &replacement)
        bytes.replaceSubrange(e.start..<e.valueRange.upperBound, with: replacement)
        patchLength()
    }

    /// Removes every field named `key`; returns whether any was removed.
    @discardableResult
    public mutating func remove(_ key: String) -> Bool {
        var doomed: [Range<Int>] = []
        var name = key
        name.withUTF8 { wanted in
            for e in elements where e.keyBytesEqual(wanted) { doomed.append(e.start..<e.valueRange.upperBound) }
        }
        guard !doomed.isEmpty else { return false }
        if doomed.count == 1 {
            bytes.removeSubrange(doomed[0])
        } else {
            var out = [UInt8]()
            out.reserveCapacity(bytes.count)
            var from = 0
            for r in doomed {
                out.append(contentsOf: bytes[from..<r.lowerBound])
                from = r.upperBound
            }
            out.append(contentsOf: bytes[from...])
            bytes = out
        }
        patchLength()
        return true
    }

    /// Returns a copy with `key` first, set to `value` (used to put `_id` in front); every other
    /// field named `key` is dropped.
    public func prepending(_ key: String, _ value: BSONValue) -> BSONDocument {
        var out = BSONDocument()
        out.bytes.reserveCapacity(bytes.count + 32)
        out.append(key, value)
        out.bytes.removeLast()
        var name = key
        name.withUTF8 { wanted in
            for e in elements where !e.keyBytesEqual(wanted) { out.bytes.append(contentsOf: e.rawElement) }
        }
        out.bytes.append(0)
        out.patchLength()
        return out
    }

    private mutating func patchLength() {
        let n = UInt32(truncatingIfNeeded: bytes.count)
        bytes[0] = UInt8(truncatingIfNeeded: n)
        bytes[1] = UInt8(truncatingIfNeeded: n >> 8)
        bytes[2] = UInt8(truncatingIfNeeded: n >> 16)
        bytes[3] = UInt8(truncatingIfNeeded: n >> 24)
    }
}

/// Builds documents with a dictionary-literal syntax: `["find": "fs.files", "limit": 1]`.
extension BSONDocument: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, BSONValue)...) {
        self.init(elements)
    }
}

func appendCString(_ out: inout [UInt8], _ s: String) {
    // Keys cannot hold NUL; anything after one is dropped rather than corrupting the document.
    for b in s.utf8 {
        if b == 0 { break }
        out.append(b)
    }
    out.append(0)
}

func appendInt32(_ out: inout [UInt8], _ v: Int32) {
    withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
}

func appendInt64(_ out: inout [UInt8], _ v: Int64) {
    withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
}

func appendString(_ out: inout [UInt8], _ s: String) {
    appendInt32(&out, Int32(truncatingIfNeeded: s.utf8.count + 1))
    out.append(contentsOf: s.utf8)
    out.append(0)
}

/// Encodes one value's bytes (without type byte and key).
func encodeValue(_ value: BSONValue, into out: inout [UInt8]) {
    switch value {
    case .double(let d): appendInt64(&out, Int64(bitPattern: d.bitPattern))
    case .string(let s), .javascript(let s), .symbol(let s): appendString(&out, s)
    case .document(let d): out.append(contentsOf: d.bytes)
    case .array(let a):
        var doc = BSONDocument()
        for (i, v) in a.enumerated() { doc.append(String(i), v) }
        out.append(contentsOf: doc.bytes)
    case .binary(let b):
        if b.subtype == 2 {
            appendInt32(&out, Int32(truncatingIfNeeded: b.data.count + 4))
            out.append(2)
            appendInt32(&out, Int32(truncatingIfNeeded: b.data.count))
        } else {
            appendInt32(&out, Int32(truncatingIfNeeded: b.data.count))
            out.append(b.subtype)
        }
        out.append(contentsOf: b.data)
    case .undefined, .null, .minKey, .maxKey: break
    case .objectId(let id): out.append(contentsOf: id.bytes)
    case .bool(let b): out.append(b ? 1 : 0)
    case .datetime(let ms): appendInt64(&out, ms)
    case .regex(let r):
        appendCString(&out, r.pattern)
        appendCString(&out, String(r.options.sorted()))  // BSON requires alphabetical option letters
    case .dbPointer(let p):
        appendString(&out, p.ref)
        out.append(contentsOf: p.id.bytes)
    case .javascriptWithScope(let c):
        let codeLen = c.code.utf8.count + 1
        appendInt32(&out, Int32(truncatingIfNeeded: 4 + 4 + codeLen + c.scope.bytes.count))
        appendString(&out, c.code)
        out.append(contentsOf: c.scope.bytes)
    case .int32(let v): appendInt32(&out, v)
    case .timestamp(let t): appendInt64(&out, Int64(bitPattern: t.value))
    case .int64(let v): appendInt64(&out, v)
    case .decimal128(let d): out.append(contentsOf: d.bytes)
    }
}

extension BSONValue {
    /// The encoded bytes of this value alone (as it would follow a key in a document).
    public var encodedBytes: [UInt8] {
        var out = [UInt8]()
        encodeValue(self, into: &out)
        return out
    }
}
