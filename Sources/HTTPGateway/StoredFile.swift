import BSON

/// A GridFS files document as the gateway serves it.
public struct StoredFile: Sendable {
    /// `_id` (any BSON type; drivers use ObjectId).
    public var id: BSONValue
    /// `length` in bytes.
    public var length: Int64
    /// `chunkSize` in bytes (every chunk but the last holds exactly this many).
    public var chunkSize: Int64
    /// `uploadDate`, milliseconds since the Unix epoch.
    public var uploadDate: Int64
    /// `filename`, if any.
    public var filename: String?
    /// `contentType`, or `metadata.contentType`, if it is a string.
    public var storedContentType: String?
    /// The whole files document.
    public var document: BSONDocument

    /// Reads a files document; nil when `length`/`chunkSize` are missing or out of range (a
    /// damaged document is not served).
    public init?(document: BSONDocument) {
        guard let id = document["_id"],
              let length = document["length"]?.int64Exact, length >= 0,
              let chunkSize = document["chunkSize"]?.int64Exact, chunkSize > 0 || length == 0 else { return nil }
        self.id = id
        self.length = length
        self.chunkSize = max(chunkSize, 1)
        if case .datetime(let ms)? = document["uploadDate"] { uploadDate = ms } else { uploadDate = 0 }
        filename = document["filename"]?.stringValue
        storedContentType = document["contentType"]?.stringValue ?? document.value(atPath: "metadata.contentType")?.stringValue
        self.document = document
    }

    /// The type to send: the stored one when usable in a header, else a guess from the name.
    public var contentType: String {
        if let t = storedContentType, MediaTypes.isHeaderSafe(t) { return t }
        return filename.flatMap(MediaTypes.guess(filename:)) ?? MediaTypes.binary
    }

    /// How many chunks the file has.
    public var chunkCount: Int64 { length == 0 ? 0 : (length - 1) / chunkSize + 1 }

    /// The expected payload size of chunk `n`.
    public func expectedSize(ofChunk n: Int64) -> Int64 {
        min(chunkSize, length - n * chunkSize)
    }

    /// A strong entity tag: files are immutable, so `_id`, length and upload date identify the
    /// bytes (never md5, which drivers no longer write). FNV-1a over the id's BSON bytes.
    public var entityTag: String {
        let idBytes = BSONDocument([("_id", id)]).bytes
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in idBytes {
            hash ^= UInt64(b)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return "\"\(hex(hash))-\(hex(UInt64(bitPattern: length)))-\(hex(UInt64(bitPattern: uploadDate)))\""
    }

    /// Whole seconds of the upload date (HTTP dates have no fractions).
    public var lastModifiedSeconds: Int64 {
        uploadDate >= 0 ? uploadDate / 1000 : (uploadDate - 999) / 1000
    }

    /// The id as it appears in URLs: the hex of an ObjectId, else its canonical extended JSON.
    public var idText: String { Self.idText(id) }

    /// The id of a URL path segment (see ``idText``).
    public static func idText(_ id: BSONValue) -> String {
        if case .objectId(let oid) = id { return oid.hex }
        let json = BSONDocument([("v", id)]).canonicalExtendedJSON
        // libbson's layout: `{ "v" : <value> }`.
        guard json.hasPrefix("{ \"v\" : "), json.hasSuffix(" }") else { return json }
        return String(json.dropFirst(8).dropLast(2))
    }

    /// Parses an id from a URL path segment: 24 hex digits are an ObjectId, anything else must be
    /// an extended JSON value (`"name"`, `{"$numberInt":"7"}`, `7`); nil when it is neither.
    public static func parseId(_ text: String) -> BSONValue? {
        if text.utf8.count == 24, let oid = ObjectId(hex: text) { return .objectId(oid) }
        guard let doc = try? BSONDocument(extendedJSON: "{\"v\": \(text)}"), doc.count == 1, let value = doc["v"] else {
            return nil
        }
        return value
    }

    private func hex(_ v: UInt64) -> String { String(v, radix: 16) }
}

extension BSONValue {
    /// An integral number (int32, int64, or a double with no fraction) as Int64.
    var int64Exact: Int64? {
        switch self {
        case .int32(let v): return Int64(v)
        case .int64(let v): return v
        case .double(let d):
            guard d.isFinite, d.rounded() == d, abs(d) < 9.0e18 else { return nil }
            return Int64(d)
        default: return nil
        }
    }
}
