import BSON
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Storage

/// GET/HEAD/PUT/DELETE of single files, and the browser's form upload.
struct FileRoutes {
    let storage: any StorageEngine
    let settings: GatewaySettings
    let metrics: GatewayMetrics
    let logger: Logger

    /// `/<db>/<bucket>/id/<id>`: GET/HEAD the file, DELETE it (POST `?delete=1` from a browser form).
    func byId(_ request: Request, database: String, bucket name: String, idText: String) async throws -> Response {
        let bucket = try GridFSBucket(storage: storage, database: database, bucket: name)
        guard let id = StoredFile.parseId(idText) else {
            throw GatewayError(.badRequest, "bad id '\(idText)': an ObjectId's 24 hex digits or an extended JSON value")
        }
        let query = QueryString(request.uri.query)
        if request.method == .delete || request.method == .post {
            guard request.method == .delete || query.flag("delete") else {
                throw GatewayError(.methodNotAllowed, "POST here deletes only with ?delete=1")
            }
            guard try await bucket.delete(id: id) else { throw GatewayError(.notFound, "no file with id \(idText)") }
            metrics.fileDeleted()
            if request.method == .post { return GatewayResponses.seeOther("../") }  // from /db/bucket/id/x to /db/bucket/
            return GatewayResponses.json(JSONText.encode([("deleted", .raw(JSONText.string(idText).text))]))
        }
        guard let file = try await bucket.file(id: id) else { throw GatewayError(.notFound, "no file with id \(idText)") }
        return serve(request, bucket: bucket, file: file, query: query)
    }

    /// `/<db>/<bucket>/name/<filename>`: GET/HEAD a revision (`?revision=`, default -1, the newest),
    /// PUT a new revision from the request body.
    func byName(_ request: Request, database: String, bucket name: String, name filename: String) async throws -> Response {
        let bucket = try GridFSBucket(storage: storage, database: database, bucket: name)
        let query = QueryString(request.uri.query)
        if request.method == .put {
            return try await put(request, bucket: bucket, filename: filename, query: query)
        }
        let revision = try query.int("revision", default: -1, in: -1_000_000_000...1_000_000_000)
        guard let file = try await bucket.file(name: filename, revision: revision) else {
            throw GatewayError(.notFound, "no file named '\(filename)' (revision \(revision))")
        }
        return serve(request, bucket: bucket, file: file, query: query)
    }

    private func serve(_ request: Request, bucket: GridFSBucket, file: StoredFile, query: QueryString) -> Response {
        if request.method == .get { metrics.fileDownloaded() }
        return FileResponse(bucket: bucket, file: file, settings: settings, metrics: metrics)
            .respond(to: request, attachment: query.flag("download"))
    }

    /// PUT: the body streams into chunks (bounded memory); 413 before reading when
    /// `Content-Length` is over the limit, or as soon as a chunked body passes it. A body that
    /// fails or is cut off leaves no file and no chunks.
    private func put(_ request: Request, bucket: GridFSBucket, filename: String, query: QueryString) async throws -> Response {
        try checkDeclaredLength(request)
        var metadata: BSONDocument?
        if let type = request.headers[.contentType], MediaTypes.isHeaderSafe(type) {
            metadata = ["contentType": .string(type)]
        }
        let chunkSize = try query.int("chunkSize", default: settings.chunkSize, in: 1...(15 << 20))
        try await GridFSUpload.ensureIndexes(bucket)
        var upload = GridFSUpload(bucket: bucket, filename: filename, chunkSize: chunkSize, metadata: metadata)
        do {
            for try await buffer in request.body {
                metrics.bytesReceived(buffer.readableBytes)
                guard upload.length + Int64(buffer.readableBytes) <= settings.maxUploadBytes else {
                    throw GatewayError(.contentTooLarge, "upload larger than \(settings.maxUploadBytes) bytes")
                }
                try await upload.append(buffer.readableBytesView)
                metrics.gridFSUploaded(buffer.readableBytes)
            }
            let file = try await upload.finish()
            metrics.fileUploaded()
            return created(file, bucket: bucket)
        } catch {
            await upload.abort()
            throw error
        }
    }

    /// 413 when `Content-Length` says the body is over the limit.
    private func checkDeclaredLength(_ request: Request) throws {
        if let declared = request.headers[.contentLength].flatMap({ Int64($0) }), declared > settings.maxUploadBytes {
            throw GatewayError(.contentTooLarge, "upload of \(declared) bytes is larger than \(settings.maxUploadBytes)")
        }
    }

    /// 201 with the new file's id, name, length and URL.
    func created(_ file: StoredFile, bucket: GridFSBucket) -> Response {
        let idText = file.idText
        let location = "/\(URLText.percentEncode(bucket.files.database))/\(URLText.percentEncode(bucket.chunks.bucketName ?? "fs"))/id/\(URLText.percentEncode(idText))"
        var response = GatewayResponses.json(JSONText.encode([
            ("_id", .string(idText)), ("filename", .string(file.filename ?? "")), ("length", .int(file.length)),
            ("chunkSize", .int(file.chunkSize)), ("contentType", .string(file.contentType)), ("url", .string(location)),
        ]), status: .created)
        response.headers[.location] = location
        response.headers[.eTag] = file.entityTag
        return response
    }

    /// POST `multipart/form-data` to `/<db>/<bucket>/` (the browse page's upload form): the first
    /// part with a filename becomes a file; a browser (Accept: text/html) is sent back to the listing.
    func formUpload(_ request: Request, database: String, bucket name: String) async throws -> Response {
        let bucket = try GridFSBucket(storage: storage, database: database, bucket: name)
        try checkDeclaredLength(request)
        guard let contentType = request.headers[.contentType],
              let boundary = MultipartFormReader.boundary(fromContentType: contentType) else {
            throw GatewayError(.unsupportedMediaType, "POST needs multipart/form-data with a boundary")
        }
        try await GridFSUpload.ensureIndexes(bucket)
        var reader = MultipartFormReader(boundary: boundary)
        var upload: GridFSUpload?
        var finished: StoredFile?
        var received: Int64 = 0
        do {
            for try await buffer in request.body {
                metrics.bytesReceived(buffer.readableBytes)
                received += Int64(buffer.readableBytes)
                guard received <= settings.maxUploadBytes else {
                    throw GatewayError(.contentTooLarge, "upload larger than \(settings.maxUploadBytes) bytes")
                }
                let events = try reader.feed(buffer.readableBytesView)
                for event in events {
                    switch event {
                    case .partStart(let part):
                        if upload == nil, finished == nil, let filename = part.filename, !filename.isEmpty {
                            var metadata: BSONDocument?
                            if let t = part.contentType, MediaTypes.isHeaderSafe(t), t != MediaTypes.binary {
                                metadata = ["contentType": .string(t)]
                            }
                            upload = GridFSUpload(bucket: bucket, filename: filename, chunkSize: settings.chunkSize, metadata: metadata)
                        }
                    case .data(let bytes):
                        if upload != nil {
                            try await upload?.append(bytes)
                            metrics.gridFSUploaded(bytes.count)
                        }
                    case .partEnd:
                        if var current = upload {
                            finished = try await current.finish()
                            upload = nil
                            metrics.fileUploaded()
                        }
                    }
                }
            }
            guard reader.isComplete else { throw GatewayError(.badRequest, "the multipart body ended early") }
        } catch {
            await upload?.abort()
            if let finished { _ = try? await bucket.delete(id: finished.id) }
            throw error
        }
        guard let file = finished else { throw GatewayError(.badRequest, "the form has no file part") }
        if request.headers[.accept]?.contains("text/html") == true { return GatewayResponses.seeOther("./") }
        return created(file, bucket: bucket)
    }
}
