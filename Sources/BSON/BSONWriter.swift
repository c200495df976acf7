/// Writes a document with nested documents and arrays in one buffer, patching each length when
/// its container ends, so large replies (cursor batches of many megabytes) are built without
/// copying nested parts again at every level.
public struct BSONWriter {
    private var bytes: [UInt8]
    /// Start offsets of the open containers; the root is first.
    private var open: [Int] = []
    /// Next array index per open container (only used for arrays).
    private var arrayIndex: [Int] = []

    /// Starts the root document, reserving `capacity` bytes.
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
        open.append(0)
        arrayIndex.append(-1)
        bytes.append(contentsOf: [0, 0, 0, 0])
    }

    /// The key to use next: the given one, or the array position inside an array.
    private mutating func key(_ key: String?) -> String {
        guard let last = arrayIndex.last, last >= 0 else { return key ?? "" }
        arrayIndex[arrayIndex.count - 1] = last + 1
        return String(last)
    }

    /// Appends a field (inside an array the key is ignored and the position used).
    public mutating func append(_ key: String, _ value: BSONValue) {
        bytes.append(value.type.rawValue)
        appendCString(&bytes, self.key(key))
        encodeValue(value, into: &bytes)
    }

    /// Appends an embedded document given as encoded bytes (no re-encoding).
    public mutating func append(_ key: String, document: BSONDocument) {
        bytes.append(BSONType.document.rawValue)
        appendCString(&bytes, self.key(key))
        bytes.append(contentsOf: document.bytes)
    }

    /// Opens an embedded document under `key`.
    public mutating func beginDocument(_ key: String) {
        bytes.append(BSONType.document.rawValue)
        appendCString(&bytes, self.key(key))
        open.append(bytes.count)
        arrayIndex.append(-1)
        bytes.append(contentsOf: [0, 0, 0, 0])
    }

    /// Opens an array under `key`; fields appended until ``end()`` get keys "0", "1", ….
    public mutating func beginArray(_ key: String) {
        bytes.append(BSONType.array.rawValue)
        appendCString(&bytes, self.key(key))
        open.append(bytes.count)
        arrayIndex.append(0)
        bytes.append(contentsOf: [0, 0, 0, 0])
    }

    /// Closes the innermost open document or array (never the root; see ``finish()``).
    public mutating func end() {
        guard open.count > 1, let start = open.popLast() else { return }
        arrayIndex.removeLast()
        bytes.append(0)
        patch(start)
    }

    /// Closes every open container and returns the document.
    public mutating func finish() -> BSONDocument {
        while open.count > 1 { end() }
        bytes.append(0)
        patch(0)
        return BSONDocument(trusted: bytes)
    }

    /// Bytes written so far.
    public var count: Int { bytes.count }

    private mutating func patch(_ start: Int) {
        let n = UInt32(truncatingIfNeeded: bytes.count - start)
        bytes[start] = UInt8(truncatingIfNeeded: n)
        bytes[start + 1] = UInt8(truncatingIfNeeded: n >> 8)
        bytes[start + 2] = UInt8(truncatingIfNeeded: n >> 16)
        bytes[start + 3] = UInt8(truncatingIfNeeded: n >> 24)
    }
}
