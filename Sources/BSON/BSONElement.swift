/// One field of a document, as a view into the document's bytes. Decoding is lazy: the value
/// is only materialised when ``value`` is read.
public struct BSONElement: Sendable {
    /// The document's bytes.
    let bytes: [UInt8]
    /// Where the element's type byte is.
    public let start: Int
    /// The range of the key's bytes (without the terminating zero).
    let keyRange: Range<Int>
    /// The range of the value's bytes.
    public let valueRange: Range<Int>
    /// The type tag byte.
    public let typeByte: UInt8

    /// The type, or nil for a tag this library does not know (never after validation).
    public var type: BSONType? { BSONType(rawValue: typeByte) }

    /// The field name.
    public var key: String { String(decoding: bytes[keyRange], as: UTF8.self) }

    /// The encoded value bytes.
    public var rawValue: ArraySlice<UInt8> { bytes[valueRange] }

    /// The whole element (type byte, key, value) as encoded.
    public var rawElement: ArraySlice<UInt8> { bytes[start..<valueRange.upperBound] }

    func keyBytesEqual(_ other: UnsafeBufferPointer<UInt8>) -> Bool {
        guard keyRange.count == other.count else { return false }
        var i = keyRange.lowerBound
        for b in other {
            if bytes[i] != b { return false }
            i += 1
        }
        return true
    }

    /// The decoded value. Bytes that do not decode (impossible after validation) read as null.
    public var value: BSONValue {
        (try? decodeValue(typeByte: typeByte, bytes: bytes, range: valueRange)) ?? .null
    }

    /// For a document or array element, its fields (or items) in place: nothing is decoded or
    /// copied. Nil for any other type.
    public var children: BSONElementSequence? {
        guard typeByte == BSONType.document.rawValue || typeByte == BSONType.array.rawValue,
              valueRange.count >= 5
        else { return nil }
        return BSONElementSequence(bytes: bytes, start: valueRange.lowerBound + 4, end: valueRange.upperBound - 1)
    }

    /// For a binary element, the payload's range in the document's bytes (no copy).
    public var binaryPayloadRange: Range<Int>? {
        guard typeByte == BSONType.binary.rawValue, valueRange.count >= 5 else { return nil }
        return (valueRange.lowerBound + 5)..<valueRange.upperBound
    }
}

/// The elements of a document, in order.
public struct BSONElementSequence: Sequence, Sendable {
    let bytes: [UInt8]
    let start: Int
    let end: Int

    /// Walks the elements; stops at the first malformed one.
    public struct Iterator: IteratorProtocol {
        let bytes: [UInt8]
        var offset: Int
        let end: Int

        public mutating func next() -> BSONElement? {
            guard offset < end, offset < bytes.count else { return nil }
            guard let e = try? parseElement(bytes, at: offset, end: end) else {
                offset = end
                return nil
            }
            offset = e.valueRange.upperBound
            return e
        }
    }

    public func makeIterator() -> Iterator { Iterator(bytes: bytes, offset: start, end: end) }
}

/// Parses the element starting at `offset`, whose value must end by `end`.
func parseElement(_ bytes: [UInt8], at offset: Int, end: Int) throws(BSONError) -> BSONElement {
    guard offset < end else { throw BSONError("element past end", offset: offset) }
    let type = bytes[offset]
    var k = offset + 1
    while k < end && bytes[k] != 0 { k += 1 }
    guard k < end else { throw BSONError("unterminated key", offset: offset) }
    let keyRange = (offset + 1)..<k
    let vstart = k + 1
    let size = try valueSize(type: type, bytes: bytes, at: vstart, end: end)
    guard size >= 0, vstart + size <= end else { throw BSONError("value runs past its document", offset: offset) }
    return BSONElement(bytes: bytes, start: offset, keyRange: keyRange, valueRange: vstart..<(vstart + size), typeByte: type)
}

/// The encoded size of a value of `type` at `at`.
func valueSize(type: UInt8, bytes: [UInt8], at: Int, end: Int) throws(BSONError) -> Int {
    func i32(_ o: Int) throws(BSONError) -> Int {
        guard o + 4 <= end, let v = readInt32(bytes, o) else { throw BSONError("truncated length", offset: o) }
        return Int(v)
    }
    func cstringLength(_ o: Int) throws(BSONError) -> Int {
        var i = o
        while i < end && bytes[i] != 0 { i += 1 }
        guard i < end else { throw BSONError("unterminated string", offset: o) }
        return i - o + 1
    }
    switch BSONType(rawValue: type) {
    case .double, .datetime, .timestamp, .int64: return 8
    case .int32: return 4
    case .decimal128: return 16
    case .objectId: return 12
    case .bool: return 1
    case .undefined, .null, .minKey, .maxKey: return 0
    case .string, .javascript, .symbol:
        let n = try i32(at)
        guard n >= 1 else { throw BSONError("bad string length", offset: at) }
        return 4 + n
    case .document, .array, .javascriptWithScope:
        let n = try i32(at)
        guard n >= 5 else { throw BSONError("bad document length", offset: at) }
        return n
    case .binary:
        let n = try i32(at)
        guard n >= 0 else { throw BSONError("bad binary length", offset: at) }
        return 5 + n
    case .regex:
        let a = try cstringLength(at)
        let b = try cstringLength(at + a)
        return a + b
    case .dbPointer:
        let n = try i32(at)
        guard n >= 1 else { throw BSONError("bad dbpointer length", offset: at) }
        return 4 + n + 12
    case nil:
        throw BSONError("unknown BSON type 0x\(hexString([type]))", offset: at - 1)
    }
}

/// Reads a little-endian int32 at `o`, or nil when out of bounds.
func readInt32(_ b: [UInt8], _ o: Int) -> Int32? {
    guard o >= 0, o + 4 <= b.count else { return nil }
    return Int32(bitPattern: UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24)
}

/// Reads a little-endian UInt64 at `o`, or nil when out of bounds.
func readUInt64(_ b: [UInt8], _ o: Int) -> UInt64? {
    guard o >= 0, o + 8 <= b.count else { return nil }
    var v: UInt64 = 0
    for i in (0..<8).reversed() { v = v << 8 | UInt64(b[o + i]) }
    return v
}
