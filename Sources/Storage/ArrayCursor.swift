import BSON

/// A cursor over documents already in memory (results of a blocking sort, aggregation output,
/// catalog listings). Safe to use from one task at a time, as the cursor registry guarantees.
public actor ArrayCursor: DocumentCursor {
    private var documents: [BSONDocument]
    private var position = 0

    /// Wraps documents.
    public init(_ documents: [BSONDocument]) {
        self.documents = documents
    }

    public func nextBatch(maxCount: Int, maxBytes: Int) async throws -> [BSONDocument] {
        var out: [BSONDocument] = []
        var bytes = 0
        while position < documents.count && out.count < maxCount {
            let doc = documents[position]
            if !out.isEmpty && bytes + doc.bytes.count > maxBytes { break }
            bytes += doc.bytes.count
            out.append(doc)
            position += 1
        }
        return out
    }

    public var isExhausted: Bool { position >= documents.count }

    public func close() async {
        documents = []
        position = 0
    }
}
