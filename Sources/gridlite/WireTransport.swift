import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
#if canImport(Glibc)
import Glibc
#endif

/// The byte stream under ``WireClient``: a plain TCP socket, or TLS through swift-nio-ssl (the
/// library the server's TLS uses) on a one-thread event loop, read and written blocking.
protocol WireTransport: AnyObject {
    /// Writes every byte of `buffer` or throws.
    func send(_ buffer: ByteBuffer) throws
    /// Reads exactly `count` bytes; throws when the peer closes first.
    func read(_ count: Int) throws -> [UInt8]
}

/// The error a transport throws: a message for the operator.
struct TransportFailure: Error {
    let message: String
    /// True when the peer closed the connection (rather than a local or TLS error).
    var closed = false
}

/// A connected TCP socket.
final class PlainTransport: WireTransport {
    private let fd: Int32

    init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    func send(_ buffer: ByteBuffer) throws {
        try buffer.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            var done = 0
            while done < bytes.count {
                let n = Glibc.send(fd, base + done, bytes.count - done, Int32(MSG_NOSIGNAL))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw TransportFailure(message: String(cString: strerror(errno)))
                }
                done += n
            }
        }
    }

    func read(_ count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        try out.withUnsafeMutableBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            while done < count {
                let n = recv(fd, base + done, count - done, 0)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { throw TransportFailure(message: "closed", closed: true) }
                done += n
            }
        }
        return out
    }
}

/// What `--uri` asks of TLS (`tls=true` and the `tls…` options drivers accept).
struct ClientTLSOptions: Sendable, Equatable {
    /// `tlsCAFile`: the certificates to trust (else the system's roots).
    var caFile: String?
    /// `tlsCertificateKeyFile`: this client's certificate chain and key, one PEM.
    var certificateKeyFile: String?
    /// `tlsAllowInvalidCertificates` (or `tlsInsecure`): no certificate check at all.
    var allowInvalidCertificates = false
    /// `tlsAllowInvalidHostnames` (or `tlsInsecure`): the chain is checked, the name is not.
    var allowInvalidHostnames = false

    /// The swift-nio-ssl client configuration (TLS 1.2 or newer, as the server).
    func configuration() throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let caFile {
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
        }
        if let certificateKeyFile {
            let pem = try [UInt8](Data(contentsOf: URL(fileURLWithPath: certificateKeyFile)))
            configuration.certificateChain = try NIOSSLCertificate.fromPEMBytes(pem).map { .certificate($0) }
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: pem, format: .pem))
        }
        if allowInvalidCertificates {
            configuration.certificateVerification = .none
        } else if allowInvalidHostnames {
            configuration.certificateVerification = .noHostnameVerification
        }
        return configuration
    }
}

/// TLS to the daemon: a NIO channel with swift-nio-ssl's client handler, driven from the calling
/// (blocking) thread; received bytes wait in an ``Inbox`` until `read` takes them.
final class TLSTransport: WireTransport {
    private let group: MultiThreadedEventLoopGroup
    private let channel: Channel
    private let inbox: Inbox

    /// Connects, and completes the TLS handshake before returning (a certificate the options
    /// refuse throws here, with swift-nio-ssl's reason).
    init(host: String, port: Int, options: ClientTLSOptions) throws {
        let context = try NIOSSLContext(configuration: try options.configuration())
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let inbox = Inbox()
        // SNI and name checks need a name, not an address literal.
        let isAddress = host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
        do {
            channel = try ClientBootstrap(group: group)
                .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(30))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = try NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : host)
                        try channel.pipeline.syncOperations.addHandler(handler)
                        try channel.pipeline.syncOperations.addHandler(InboxHandler(inbox: inbox))
                    }
                }
                .connect(host: host, port: port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw TransportFailure(message: "\(error)")
        }
        self.group = group
        self.inbox = inbox
        do {
            try inbox.waitForHandshake()
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    private var isClosed = false

    /// Closes the channel and stops the event loop, once (a second shutdown of the group would wait forever).
    private func close() {
        guard !isClosed else { return }
        isClosed = true
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }

    func send(_ buffer: ByteBuffer) throws {
        do {
            try channel.writeAndFlush(buffer).wait()
        } catch {
            throw inbox.failure ?? TransportFailure(message: "\(error)")
        }
    }

    func read(_ count: Int) throws -> [UInt8] {
        try inbox.take(count)
    }
}

/// Bytes received on the event loop, waiting for the blocking reader; the handshake's outcome;
/// the first error or the close.
final class Inbox: @unchecked Sendable {
    private let condition = NSCondition()
    private var bytes: [UInt8] = []
    private var start = 0
    private var handshakeDone = false
    private var ended: TransportFailure?

    /// The error that ended the connection, if it has ended.
    var failure: TransportFailure? {
        condition.lock()
        defer { condition.unlock() }
        return ended
    }

    func append(_ buffer: ByteBuffer) {
        condition.lock()
        bytes.append(contentsOf: buffer.readableBytesView)
        condition.broadcast()
        condition.unlock()
    }

    func handshakeCompleted() {
        condition.lock()
        handshakeDone = true
        condition.broadcast()
        condition.unlock()
    }

    func end(_ failure: TransportFailure) {
        condition.lock()
        if ended == nil { ended = failure }
        condition.broadcast()
        condition.unlock()
    }

    func waitForHandshake() throws {
        condition.lock()
        defer { condition.unlock() }
        while !handshakeDone && ended == nil { condition.wait() }
        if !handshakeDone, let ended { throw ended }
    }

    func take(_ count: Int) throws -> [UInt8] {
        condition.lock()
        defer { condition.unlock() }
        while bytes.count - start < count {
            if let ended { throw ended }
            condition.wait()
        }
        let out = Array(bytes[start..<(start + count)])
        start += count
        if start > 1 << 20 {
            bytes.removeFirst(start)
            start = 0
        }
        return out
    }
}

/// The last handler of a TLS client channel: hands decrypted bytes and events to the ``Inbox``.
final class InboxHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private let inbox: Inbox

    init(inbox: Inbox) { self.inbox = inbox }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inbox.append(unwrapInboundIn(data))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event { inbox.handshakeCompleted() }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        inbox.end(TransportFailure(message: "\(error)"))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.end(TransportFailure(message: "closed", closed: true))
        context.fireChannelInactive()
    }
}
