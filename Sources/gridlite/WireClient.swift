import Auth
import BSON
import Foundation
import NIOCore
import Wire
#if canImport(Glibc)
import Glibc
#endif

/// A small blocking client of the wire protocol for the operator commands' `--uri` mode: one TCP
/// connection, OP_MSG requests over our own `Wire` and `BSON` modules, a `hello` and, when the
/// URI names a user, SCRAM (SHA-256 when the server lists it for the user, else SHA-1) through the
/// `Auth` module's ``ScramClient``. With `tls=true` in the URI the connection is TLS
/// (``TLSTransport``: `tlsCAFile`, `tlsCertificateKeyFile`, `tlsAllowInvalidCertificates`,
/// `tlsAllowInvalidHostnames`, `tlsInsecure`, as drivers read them).
final class WireClient {
    /// A failure to reach or talk to the daemon, or a command's error reply.
    struct Failure: Error, CustomStringConvertible {
        let description: String
        /// The server's error code, when the daemon answered `ok: 0`.
        var code: Int?
    }

    private let transport: any WireTransport
    private var nextRequestID: Int32 = 1
    /// The daemon's `maxMessageSizeBytes`.
    private(set) var maxMessageBytes = 48_000_000
    /// Where it is connected.
    let uri: MongoURI

    private init(transport: any WireTransport, uri: MongoURI) {
        self.transport = transport
        self.uri = uri
    }

    /// Connects to the daemon `uri` names, says hello and authenticates when it names a user.
    static func connect(_ uri: MongoURI) throws -> WireClient {
        if let options = uri.tls {
            let transport: TLSTransport
            do {
                transport = try TLSTransport(host: uri.host, port: uri.port, options: options)
            } catch let failure as TransportFailure {
                throw Failure(description: "cannot connect to \(uri.address) over TLS: \(failure.closed ? "the daemon closed the connection" : failure.message)")
            } catch {
                throw Failure(description: "TLS setup for \(uri.address) failed: \(error)")
            }
            let client = WireClient(transport: transport, uri: uri)
            try client.handshake()
            return client
        }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(uri.host, String(uri.port), &hints, &list) == 0, let first = list else {
            throw Failure(description: "cannot resolve \(uri.host)")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                var one: Int32 = 1
                _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                let client = WireClient(transport: PlainTransport(fd: fd), uri: uri)
                try client.handshake()
                return client
            }
            lastError = String(cString: strerror(errno))
            close(fd)
        }
        throw Failure(description: "cannot connect to \(uri.address): \(lastError)")
    }

    /// `hello` (asking for the user's mechanisms), then SCRAM when the URI has a user.
    private func handshake() throws {
        var hello: BSONDocument = ["hello": .int32(1), "client": .document([
            "application": .document(["name": .string("gridlite-cli")]),
            "driver": .document(["name": .string("gridlite-cli"), "version": .string(Gridlite.version)]),
            "os": .document(["type": .string("Linux")]),
        ])]
        if let user = uri.user { hello.append("saslSupportedMechs", .string("\(uri.authSource).\(user)")) }
        let reply = try command(hello, database: "admin")
        if let max = reply["maxMessageSizeBytes"]?.intValue, max > 1024 { maxMessageBytes = max }
        guard let user = uri.user else { return }
        var offered: [String] = []
        if case .array(let list)? = reply["saslSupportedMechs"] {
            offered = list.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
        }
        let mechanism: ScramMechanism
        if let asked = uri.authMechanism, let m = ScramMechanism(rawValue: asked) {
            mechanism = m
        } else {
            mechanism = offered.contains(ScramMechanism.sha256.rawValue) || offered.isEmpty ? .sha256 : .sha1
        }
        try authenticate(user: user, password: uri.password ?? "", mechanism: mechanism)
    }

    private func authenticate(user: String, password: String, mechanism: ScramMechanism) throws {
        var scram = try ScramClient(mechanism, user: user, password: password, nonce: try ScramClient.makeNonce())
        var start = BSONDocument()
        start.append("saslStart", .int32(1))
        start.append("mechanism", .string(mechanism.rawValue))
        start.appendBinary("payload", subtype: 0, payload: scram.clientFirst)
        start.append("options", .document(["skipEmptyExchange": .bool(true)]))
        let failed = "authentication of \(user)@\(uri.authSource) with \(mechanism.rawValue) failed"
        let first = try command(start, database: uri.authSource, failure: failed)
        guard let conversation = first["conversationId"], case .binary(let serverFirst)? = first["payload"] else {
            throw Failure(description: "\(failed): unexpected saslStart reply")
        }
        var next = BSONDocument()
        next.append("saslContinue", .int32(1))
        next.append("conversationId", conversation)
        next.appendBinary("payload", subtype: 0, payload: try scram.finish(serverFirst: serverFirst.data))
        var reply = try command(next, database: uri.authSource, failure: failed)
        guard case .binary(let serverFinal)? = reply["payload"] else { throw Failure(description: "\(failed): no server signature") }
        do {
            try scram.verify(serverFinal: serverFinal.data)
        } catch {
            throw Failure(description: "\(failed): the server's signature is wrong (is this the daemon you meant?)")
        }
        // A server that ignores skipEmptyExchange wants one more, empty, step.
        if reply["done"]?.boolValue != true {
            var empty = BSONDocument()
            empty.append("saslContinue", .int32(1))
            empty.append("conversationId", conversation)
            empty.appendBinary("payload", subtype: 0, payload: [UInt8]())
            reply = try command(empty, database: uri.authSource, failure: failed)
        }
    }

    /// Runs `body` on `database` (kind-1 `sequences` beside it) and returns the reply; an `ok: 0`
    /// reply throws its `errmsg` and code (prefixed by `failure` when given).
    @discardableResult
    func command(_ body: BSONDocument, database: String, sequences: [OpMsg.DocumentSequence] = [],
                 failure: String? = nil) throws -> BSONDocument {
        var full = body
        full.append("$db", .string(database))
        let id = nextRequestID
        nextRequestID = nextRequestID == Int32.max ? 1 : nextRequestID + 1
        let message = OpMsg(body: full, documentSequences: sequences).encoded(requestID: id, responseTo: 0)
        try send(message)
        let reply = try receive(answering: id)
        if let ok = reply["ok"]?.doubleValue, ok == 1 { return reply }
        var text = "command failed"
        if case .string(let message)? = reply["errmsg"] { text = message }
        let code = reply["code"]?.intValue
        throw Failure(description: (failure.map { "\($0): " } ?? "") + text + (code.map { " (code \($0))" } ?? ""), code: code)
    }

    private func send(_ buffer: ByteBuffer) throws {
        do {
            try transport.send(buffer)
        } catch let failure as TransportFailure {
            throw Failure(description: "lost the connection to \(uri.address): \(failure.message)")
        }
    }

    private func receive(answering id: Int32) throws -> BSONDocument {
        let head = try read(MessageHeader.size)
        var headBuffer = ByteBuffer(bytes: head)
        guard let header = MessageHeader.read(from: &headBuffer) else { throw Failure(description: "short reply header") }
        guard header.messageLength >= Int32(MessageHeader.size + 5), Int(header.messageLength) <= maxMessageBytes + 16 * 1024 * 1024 else {
            throw Failure(description: "the daemon sent a message of \(header.messageLength) bytes")
        }
        guard header.responseTo == id else { throw Failure(description: "a reply to request \(header.responseTo), expected \(id)") }
        let body = ByteBuffer(bytes: try read(Int(header.messageLength) - MessageHeader.size))
        do {
            return try OpMsg(frame: WireFrame(header: header, body: body)).mergedBody()
        } catch {
            throw Failure(description: "an unreadable reply: \(error)")
        }
    }

    private func read(_ count: Int) throws -> [UInt8] {
        do {
            return try transport.read(count)
        } catch let failure as TransportFailure where failure.closed {
            throw Failure(description: "the daemon at \(uri.address) closed the connection"
                          + (nextRequestID <= 2 && uri.tls == nil ? " (does it require TLS? add tls=true to --uri)" : ""))
        } catch let failure as TransportFailure {
            throw Failure(description: "lost the connection to \(uri.address): \(failure.message)")
        }
    }
}
