import BSON
import HTTPTypes
import Hummingbird
import Query
import Storage

/// `GET /`, `/<db>/`, `/<db>/<bucket>/`: JSON for API clients, the browse page when the client
/// prefers `text/html` (content negotiation on `Accept`, so one URL serves both).
struct Listings {
    let storage: any StorageEngine

    /// One page of a bucket's files.
    struct FilePage {
        var files: [StoredFile]
        /// The `?after=` token of the next page, nil on the last page.
        var next: String?
    }

    /// The most files one page lists.
    static let maximumLimit = 1000

    static func wantsHTML(_ request: Request) -> Bool {
        guard let accept = request.headers[.accept]?.lowercased() else { return false }
        guard let html = accept.range(of: "text/html") else { return false }
        if let json = accept.range(of: "application/json") { return html.lowerBound < json.lowerBound }
        return true
    }

    /// Databases that hold at least one GridFS bucket.
    func databases(_ request: Request) async throws -> Response {
        var names: [String] = []
        for db in try await storage.listDatabases() where !(try await bucketNames(db.name)).isEmpty {
            names.append(db.name)
        }
        names.sort()
        if Self.wantsHTML(request) { return GatewayResponses.html(BrowsePage.databases(names)) }
        return GatewayResponses.json(JSONText.encode([
            ("databases", .array(names.map { .object([("name", .string($0)), ("url", .string("/\(URLText.percentEncode($0))/"))]) })),
        ]))
    }

    /// The buckets of a database (collections named `<bucket>.files`).
    func buckets(_ request: Request, database: String) async throws -> Response {
        try Namespace.checkDatabaseName(database)
        let names = try await bucketNames(database)
        if Self.wantsHTML(request) { return GatewayResponses.html(BrowsePage.buckets(database: database, names)) }
        return GatewayResponses.json(JSONText.encode([
            ("database", .string(database)),
            ("buckets", .array(names.map {
                .object([("name", .string($0)), ("url", .string("/\(URLText.percentEncode(database))/\(URLText.percentEncode($0))/"))])
            })),
        ]))
    }

    private func bucketNames(_ database: String) async throws -> [String] {
        try await storage.listCollections(in: database)
            .compactMap { Namespace(unchecked: database, $0.name).kind == .gridFSFiles ? String($0.name.dropLast(6)) : nil }
            .sorted()
    }

    /// A page of files in name order (then upload date): `?prefix=`, `?limit=` (1–1000, default
    /// 100), `?after=` (the previous page's `next`).
    func files(_ request: Request, database: String, bucket name: String) async throws -> Response {
        let bucket = try GridFSBucket(storage: storage, database: database, bucket: name)
        let query = QueryString(request.uri.query)
        let limit = try query.int("limit", default: 100, in: 1...Self.maximumLimit)
        let prefix = query["prefix"] ?? ""
        let after = try query["after"].map(Self.parseAfter)
        let page = try await filePage(bucket, prefix: prefix, after: after, limit: limit)
        if Self.wantsHTML(request) {
            return GatewayResponses.html(BrowsePage.files(
                database: database, bucket: name, page: page, prefix: prefix, limit: limit,
                preview: query["preview"], isFirstPage: after == nil))
        }
        let base = "/\(URLText.percentEncode(database))/\(URLText.percentEncode(name))"
        let items: [JSONText] = page.files.map { f in
            let idText = f.idText
            return .object([
                ("_id", .string(idText)), ("filename", f.filename.map(JSONText.string) ?? .null),
                ("length", .int(f.length)), ("chunkSize", .int(f.chunkSize)),
                ("uploadDate", .string(HTTPDate.iso8601(millisecondsSince1970: f.uploadDate))),
                ("contentType", .string(f.contentType)), ("url", .string("\(base)/id/\(URLText.percentEncode(idText))")),
            ])
        }
        return GatewayResponses.json(JSONText.encode([
            ("database", .string(database)), ("bucket", .string(name)), ("files", .array(items)),
            ("next", page.next.map(JSONText.string) ?? .null),
        ]))
    }

    /// Files sorted by (filename, uploadDate) after a position, with a name prefix.
    func filePage(_ bucket: GridFSBucket, prefix: String, after: (String, Int64)?, limit: Int) async throws -> FilePage {
        var clauses: [BSONValue] = []
        if !prefix.isEmpty {
            clauses.append(.document(["filename": .document(["$regex": .string("^" + Self.regexEscape(prefix))])]))
        }
        if let (name, date) = after {
            clauses.append(.document(["$or": .array([
                .document(["filename": .document(["$gt": .string(name)])]),
                .document(["filename": .string(name), "uploadDate": .document(["$gt": .datetime(date)])]),
            ])]))
        }
        let filterDoc: BSONDocument = clauses.isEmpty ? [:] : (clauses.count == 1 ? (clauses[0].documentValue ?? [:]) : ["$and": .array(clauses)])
        let sort = try SortSpec(["filename": .int32(1), "uploadDate": .int32(1)])
        let cursor = try await bucket.storage.find(FindQuery(namespace: bucket.files, filter: try Filter(filterDoc), sort: sort, limit: limit + 1))
        defer { Task { await cursor.close() } }
        var docs: [BSONDocument] = []
        while docs.count < limit + 1 {
            let batch = try await cursor.nextBatch(maxCount: limit + 1 - docs.count, maxBytes: 16 << 20)
            if batch.isEmpty { break }
            docs += batch
        }
        var files = docs.compactMap(StoredFile.init(document:))
        var next: String?
        if files.count > limit {
            files.removeLast(files.count - limit)
            if let last = files.last { next = Self.afterToken(last) }
        }
        return FilePage(files: files, next: next)
    }

    /// `<uploadDate ms>:<filename>`, the position after a file.
    static func afterToken(_ f: StoredFile) -> String { "\(f.uploadDate):\(f.filename ?? "")" }

    static func parseAfter(_ token: String) throws -> (String, Int64) {
        guard let colon = token.firstIndex(of: ":"), let ms = Int64(token[..<colon]) else {
            throw GatewayError(.badRequest, "?after must be a listing's next token")
        }
        return (String(token[token.index(after: colon)...]), ms)
    }

    /// A literal string as a PCRE pattern.
    static func regexEscape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            if "\\^$.|?*+()[]{}-/".unicodeScalars.contains(c) { out.append("\\") }
            out.unicodeScalars.append(c)
        }
        return out
    }
}
