import CBSONShim

extension BSONDocument {
    /// Canonical extended JSON (every type explicit), as libbson writes it.
    public var canonicalExtendedJSON: String { extendedJSON(canonical: true) }

    /// Relaxed extended JSON (numbers and dates in their natural JSON form), for logs.
    public var relaxedExtendedJSON: String { extendedJSON(canonical: false) }

    private func extendedJSON(canonical: Bool) -> String {
        var length = 0
        let ptr = bytes.withUnsafeBufferPointer { buf in
            gl_bson_as_extended_json(buf.baseAddress, buf.count, canonical ? 1 : 0, &length)
        }
        guard let ptr else { return "<invalid BSON>" }
        defer { gl_free(ptr) }
        return String(cString: ptr)
    }

    /// Parses extended JSON (canonical or relaxed) into a document.
    public init(extendedJSON json: String) throws(BSONError) {
        var out: UnsafeMutablePointer<UInt8>? = nil
        var outLen = 0
        var message = [CChar](repeating: 0, count: 512)
        let utf8 = Array(json.utf8)
        let ok = utf8.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { chars in
                message.withUnsafeMutableBufferPointer { msg in
                    gl_bson_from_json(chars.baseAddress, chars.count, &out, &outLen, msg.baseAddress, msg.count)
                }
            }
        }
        guard ok, let out else {
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw BSONError("invalid extended JSON: \(text)")
        }
        defer { gl_free(out) }
        try self.init(validating: UnsafeBufferPointer(start: out, count: outLen))
    }
}
