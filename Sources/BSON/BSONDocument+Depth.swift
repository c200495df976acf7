/// Nesting limits, as mongod's `BSONDepth`.
extension BSONDocument {
    /// The deepest nesting accepted anywhere (mongod's `maxBSONDepth` default): the top-level
    /// document is level 1. Deeper documents fail validation at the wire.
    public static let maxDepth = 200

    /// The deepest nesting a stored document may have (mongod keeps 20 levels of headroom below
    /// ``maxDepth`` for the nesting it adds around documents in replies).
    public static let maxStorageDepth = 180

    /// The nesting depth as mongod counts it for storage: the top-level document is 1, each
    /// non-empty embedded document or array adds a level, empty ones add none.
    public var storageDepth: Int {
        BSONDocument.depth(bytes, start: 4, end: bytes.count - 1)
    }

    private static func depth(_ bytes: [UInt8], start: Int, end: Int) -> Int {
        var deepest = 1
        for e in BSONElementSequence(bytes: bytes, start: start, end: end) {
            guard e.typeByte == BSONType.document.rawValue || e.typeByte == BSONType.array.rawValue else { continue }
            let r = e.valueRange
            // An empty document is 5 bytes; it does not count.
            guard r.count > 5 else { continue }
            deepest = Swift.max(deepest, 1 + depth(bytes, start: r.lowerBound + 4, end: r.upperBound - 1))
        }
        return deepest
    }
}
