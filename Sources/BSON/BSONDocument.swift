import CBSONShim

/// A BSON document that owns its bytes.
///
/// Bytes from the network enter through ``init(validating:)``, which checks them completely
/// (structure, lengths, UTF-8, booleans, depth); every reader here still bounds-checks, so a document can never
/// crash the process. Field order and types are kept exactly as written.
public struct BSONDocument: Sendable, Hashable {
    /// The encoded document: an int32 length, the elements, a trailing zero byte.
    public internal(set) var bytes: [UInt8]

    /// The empty document `{}`.
    public init() {
        bytes = [5, 0, 0, 0, 0]
    }

    /// Validates `bytes` as exactly one BSON document and keeps a copy.
    public init(validating bytes: some Collection<UInt8>) throws(BSONError) {
        let copy = Array(bytes)
        try BSONDocument.validate(copy)
        self.bytes = copy
    }

    /// Wraps bytes this process stored earlier and reads back from its own storage. Only the
    /// framing is checked (length prefix and terminator); readers bounds-check everything else, so
    /// even a damaged database file cannot crash the process. Returns nil when the framing is wrong.
    public init?(storedBytes bytes: [UInt8]) {
        guard bytes.count >= 5, let n = readInt32(bytes, 0), Int(n) == bytes.count, bytes[bytes.count - 1] == 0 else {
            return nil
        }
        self.bytes = bytes
    }

    /// Wraps bytes this process produced itself (already known to be valid).
    init(trusted bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Checks that `bytes` are exactly one well-formed BSON document: structure, lengths, UTF-8 of
    /// keys and strings, booleans, nesting depth (see `StrictChecker`). One allocation-free pass.
    public static func validate(_ bytes: [UInt8]) throws(BSONError) {
        guard bytes.count >= 5 else { throw BSONError("document is shorter than 5 bytes") }
        let declared = Int(readInt32(bytes, 0) ?? -1)
        guard declared == bytes.count else {
            throw BSONError("document length \(declared) does not match the \(bytes.count) bytes given")
        }
        try StrictChecker.check(bytes, start: 0, end: bytes.count, depth: 0)
    }

    /// libbson's own validator (structure and UTF-8), kept for cross-checking in tests: it accepts
    /// a few documents the specification rejects (e.g. bad UTF-8 in string values), so
    /// ``validate(_:)`` does not rely on it.
    public static func libbsonValidationError(_ bytes: [UInt8]) -> BSONError? {
        var offset = 0
        var message = [CChar](repeating: 0, count: 512)
        let ok = bytes.withUnsafeBufferPointer { buf in
            message.withUnsafeMutableBufferPointer { msg in
                gl_bson_validate(buf.baseAddress, buf.count, &offset, msg.baseAddress, msg.count)
            }
        }
        if ok { return nil }
        let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return BSONError("invalid BSON: \(text)", offset: offset)
    }

    /// The number of top-level fields.
    public var count: Int {
        var n = 0
        for _ in elements { n += 1 }
        return n
    }

    /// True when the document has no fields.
    public var isEmpty: Bool { bytes.count <= 5 }

    /// The field names, in order.
    public var keys: [String] { elements.map(\.key) }

    /// The first value stored under `key`, if any.
    public subscript(key: String) -> BSONValue? {
        element(forKey: key)?.value
    }

    /// The first raw element stored under `key`, if any. Compares key bytes in place (no decoding).
    public func element(forKey key: String) -> BSONElement? {
        var key = key
        return key.withUTF8 { wanted in
            for e in elements where e.keyBytesEqual(wanted) { return e }
            return nil
        }
    }

    /// True when the document has a field named `key`.
    public func contains(_ key: String) -> Bool { element(forKey: key) != nil }

    /// The value at a dotted path (`"a.b.0.c"`), descending into documents and, by numeric
    /// position, into arrays. Returns nil when any step is missing. (MongoDB's implicit array
    /// traversal is the Query module's job.)
    public func value(atPath path: String) -> BSONValue? {
        element(atPath: path)?.value
    }

    /// The raw element at a dotted path (see ``value(atPath:)``). Walks the bytes in place: only
    /// the elements on the path are looked at, and nothing is decoded or copied.
    public func element(atPath path: String) -> BSONElement? {
        var scope = elements
        var isArray = false
        var found: BSONElement?
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            if found != nil {
                // Descend into the previous step's document or array.
                guard let prev = found, prev.typeByte == BSONType.document.rawValue || prev.typeByte == BSONType.array.rawValue,
                      prev.valueRange.count >= 5
                else { return nil }
                scope = BSONElementSequence(bytes: bytes, start: prev.valueRange.lowerBound + 4, end: prev.valueRange.upperBound - 1)
                isArray = prev.typeByte == BSONType.array.rawValue
            }
            found = nil
            if isArray {
                guard let index = Int(part), index >= 0 else { return nil }
                var i = 0
                for e in scope {
                    if i == index { found = e; break }
                    i += 1
                }
            } else {
                var name = String(part)
                found = name.withUTF8 { wanted in
                    for e in scope where e.keyBytesEqual(wanted) { return e }
                    return nil
                }
            }
            if found == nil { return nil }
        }
        return found
    }

    /// The elements in order, decoded lazily.
    public var elements: BSONElementSequence { BSONElementSequence(bytes: bytes, start: 4, end: bytes.count - 1) }

    /// All fields as (key, value) pairs.
    public var pairs: [(key: String, value: BSONValue)] { elements.map { ($0.key, $0.value) } }
}

extension BSONDocument: Sequence {
    /// Iterates (key, value) pairs in order.
    public func makeIterator() -> AnyIterator<(key: String, value: BSONValue)> {
        var it = elements.makeIterator()
        return AnyIterator { it.next().map { ($0.key, $0.value) } }
    }
}

extension BSONDocument: CustomStringConvertible {
    /// Relaxed extended JSON, for logs.
    public var description: String { relaxedExtendedJSON }
}
