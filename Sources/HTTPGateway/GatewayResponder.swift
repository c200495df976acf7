import BSON
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Storage

/// The gateway's one responder: parses the path into a ``GatewayRoute``, checks credentials when
/// a verifier is set, and answers; every request is counted by route, method and status.
struct GatewayResponder: HTTPResponder {
    typealias Context = GatewayRequestContext

    let storage: any StorageEngine
    let settings: GatewaySettings
    let metrics: GatewayMetrics
    let logger: Logger
    /// The Prometheus text of every metric of the process.
    let metricsText: @Sendable () async -> String

    func respond(to request: Request, context: Context) async throws -> Response {
        let started = ContinuousClock.now
        let route = GatewayRoute(path: request.uri.path)
        var response: Response
        do {
            response = try await handle(request, route: route, context: context)
        } catch let e as GatewayError {
            response = GatewayResponses.error(e)
        } catch let e as MongoError {
            response = GatewayResponses.error(Self.gatewayError(e, logger: logger))
        } catch {
            logger.error("HTTP gateway internal error", metadata: ["error": "\(String(reflecting: error))"])
            response = GatewayResponses.error(GatewayError(.internalServerError, "internal error"))
        }
        if request.method == .head {
            response = response.createHeadResponse()
        }
        metrics.request(route: route.label, method: request.method.rawValue, status: response.status.code)
        return Self.timingBody(of: response, route: route.label, started: started, metrics: metrics)
    }

    /// The response with its duration recorded once the body has been written to the connection
    /// (or failed to be), not when the head is ready: a 4 GiB download to a slow client counts
    /// for as long as it takes.
    static func timingBody(of response: Response, route: String, started: ContinuousClock.Instant,
                           metrics: GatewayMetrics) -> Response {
        guard response.body.contentLength != 0 else {
            metrics.requestDuration(route: route, ContinuousClock.now - started)
            return response
        }
        var response = response
        let body = response.body
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            defer { metrics.requestDuration(route: route, ContinuousClock.now - started) }
            try await body.write(writer)
        }
        return response
    }

    /// MongoDB errors from storage: bad names are the client's fault, the rest is logged.
    static func gatewayError(_ e: MongoError, logger: Logger) -> GatewayError {
        switch e.code {
        case ErrorCode.invalidNamespace.rawValue: return GatewayError(.badRequest, e.message)
        case ErrorCode.duplicateKey.rawValue: return GatewayError(.conflict, e.message)
        default:
            logger.error("HTTP gateway storage error", metadata: ["error": "\(e)"])
            return GatewayError(.internalServerError, "storage error \(e.code) (\(e.codeName))")
        }
    }

    private func handle(_ request: Request, route: GatewayRoute, context: Context) async throws -> Response {
        switch route {
        case .livez:
            return GatewayResponses.json(JSONText.encode([("status", .string("ok"))]))
        case .readyz:
            do {
                _ = try await storage.listDatabases()
                return GatewayResponses.json(JSONText.encode([("status", .string("ready"))]))
            } catch {
                return GatewayResponses.json(JSONText.encode([("status", .string("storage unavailable"))]), status: .serviceUnavailable)
            }
        case .badPath(let why):
            throw GatewayError(.badRequest, why)
        case .notFound:
            throw GatewayError(.notFound, "no such route")
        case .addSlash(let location):
            guard request.method == .get || request.method == .head else { throw GatewayError(.notFound, "no such route") }
            var headers = HTTPFields()
            headers[.location] = location + (request.uri.query.map { "?" + $0 } ?? "")
            return Response(status: .movedPermanently, headers: headers)
        default:
            break
        }
        let access = try Self.access(route, method: request.method)
        if let denied = await authorize(request, access: access, client: context.clientHost) { return denied }
        let files = FileRoutes(storage: storage, settings: settings, metrics: metrics, logger: logger)
        switch route {
        case .metrics:
            return GatewayResponses.text(await metricsText(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        case .root:
            return try await Listings(storage: storage).databases(request)
        case .database(let db):
            return try await Listings(storage: storage).buckets(request, database: db)
        case .bucket(let db, let bucket):
            if request.method == .post { return try await files.formUpload(request, database: db, bucket: bucket) }
            return try await Listings(storage: storage).files(request, database: db, bucket: bucket)
        case .fileById(let db, let bucket, let idText):
            return try await files.byId(request, database: db, bucket: bucket, idText: idText)
        case .fileByName(let db, let bucket, let name):
            return try await files.byName(request, database: db, bucket: bucket, name: name)
        default:
            throw GatewayError(.notFound, "no such route")
        }
    }

    /// Which access a route and method need; 405 (with `Allow`) for methods a route has not.
    static func access(_ route: GatewayRoute, method: HTTPRequest.Method) throws -> HTTPAccess {
        let readOnly: Set<HTTPRequest.Method> = [.get, .head]
        func need(_ allowed: Set<HTTPRequest.Method>, _ allowText: String) throws {
            guard allowed.contains(method) else { throw GatewayError(.methodNotAllowed, "method \(method.rawValue) not allowed here (\(allowText))") }
        }
        switch route {
        case .metrics, .root:
            try need(readOnly, "GET, HEAD")
            return .server
        case .database(let db):
            try need(readOnly, "GET, HEAD")
            return .read(database: db)
        case .bucket(let db, _):
            try need(readOnly.union([.post]), "GET, HEAD, POST")
            return method == .post ? .write(database: db) : .read(database: db)
        case .fileById(let db, _, _):
            try need(readOnly.union([.delete, .post]), "GET, HEAD, DELETE, POST")
            return readOnly.contains(method) ? .read(database: db) : .write(database: db)
        case .fileByName(let db, _, _):
            try need(readOnly.union([.put]), "GET, HEAD, PUT")
            return readOnly.contains(method) ? .read(database: db) : .write(database: db)
        default:
            return .server
        }
    }

    /// Nil when the request may go ahead; else the 401/403 response.
    private func authorize(_ request: Request, access: HTTPAccess, client: String) async -> Response? {
        guard let verifier = settings.verifier else { return nil }
        var challenge = HTTPFields()
        challenge[.wwwAuthenticate] = "Basic realm=\"gridlite\", charset=\"UTF-8\""
        guard let credentials = BasicCredentials.parse(request.headers[.authorization]) else {
            return GatewayResponses.error(GatewayError(.unauthorized, "authentication required"), headers: challenge)
        }
        switch await verifier.authorize(username: credentials.user, password: credentials.password, access: access, client: client) {
        case .allowed: return nil
        case .unauthenticated:
            logger.info("HTTP authentication failed", metadata: ["user": "\(credentials.user)", "remote": "\(client)"])
            return GatewayResponses.error(GatewayError(.unauthorized, "authentication failed"), headers: challenge)
        case .forbidden:
            return GatewayResponses.error(GatewayError(.forbidden, "not authorized for this access"))
        }
    }
}
