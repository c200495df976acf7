import BSON

/// GridFS payload bytes a command moved through the wire protocol, read in place from its request
/// and reply (no decoding): `data` of chunks inserted into a `*.chunks` collection, `data` of
/// chunks a `find`/`getMore` on one returned, and files documents inserted into `*.files`.
/// The observation point exports them beside the HTTP gateway's, as
/// `gridlite_gridfs_bytes_total{front="wire"}` and `gridlite_gridfs_files_total{front="wire"}`.
public struct GridFSTraffic: Sendable, Equatable {
    /// Chunk payload bytes written.
    public var uploadedBytes = 0
    /// Chunk payload bytes returned.
    public var downloadedBytes = 0
    /// Files documents inserted.
    public var filesUploaded = 0

    /// Nothing moved.
    public static let none = GridFSTraffic()

    /// The traffic of one successful command (`inserted`: the documents it stored).
    init(request: CommandRequest, reply: BSONDocument, inserted: Int) {
        switch request.name {
        case "insert":
            guard case .string(let coll)? = request.argument, inserted > 0 else { return }
            if coll.hasSuffix(".files") {
                filesUploaded = inserted
            } else if coll.hasSuffix(".chunks") {
                var counted = 0
                if let docs = request.sequences["documents"] {
                    for doc in docs where counted < inserted {
                        uploadedBytes &+= doc.element(forKey: "data")?.binaryPayloadRange?.count ?? 0
                        counted += 1
                    }
                } else if let items = request.body.element(forKey: "documents")?.children {
                    for item in items where counted < inserted {
                        uploadedBytes &+= GridFSTraffic.dataBytes(item)
                        counted += 1
                    }
                }
            }
        case "find":
            guard case .string(let coll)? = request.argument, coll.hasSuffix(".chunks") else { return }
            downloadedBytes = GridFSTraffic.batchDataBytes(reply, "firstBatch")
        case "getMore":
            guard case .string(let coll)? = request.body["collection"], coll.hasSuffix(".chunks") else { return }
            downloadedBytes = GridFSTraffic.batchDataBytes(reply, "nextBatch")
        default:
            return
        }
    }

    private init() {}

    /// The `data` payload size of a chunk document element.
    static func dataBytes(_ chunk: BSONElement) -> Int {
        guard let fields = chunk.children else { return 0 }
        for f in fields where f.key == "data" { return f.binaryPayloadRange?.count ?? 0 }
        return 0
    }

    static func batchDataBytes(_ reply: BSONDocument, _ batch: String) -> Int {
        guard let cursor = reply.element(forKey: "cursor")?.children else { return 0 }
        for field in cursor where field.key == batch {
            guard let items = field.children else { return 0 }
            var total = 0
            for item in items { total &+= dataBytes(item) }
            return total
        }
        return 0
    }
}
