import Commands
import Logging
import NIOCore
import NIOSSL
import Wire

/// The first handler of every connection: looks at the first bytes and decides whether the
/// client speaks TLS or the plain wire protocol, then gets out of the way.
///
/// A TLS record starts `0x16 0x03 0x00…0x04` and a ClientHello's handshake type (byte 5) is 1;
/// a wire message starts with its little-endian length, which can begin with the same bytes
/// (a 66,326-byte message starts `0x16 0x03 0x01`), so the decision waits for 16 bytes and also
/// checks that bytes 12–15 are not a wire opcode (a ClientHello has random bytes there). A plain
/// message is decided on its first byte that cannot be TLS, usually the first.
///
/// - TLS allowed: inserts a `NIOSSLServerHandler` (with the context current now, so a SIGHUP
///   reload affects new connections only) and a ``TLSHandshakeWatch`` behind itself.
/// - TLS disabled: a ClientHello closes the connection at once, with a logged reason (instead of
///   being read as a 33.6 MB frame the client waits on until its timeout).
/// - `requireTLS`: a plain client is closed, with a logged reason.
///
/// Until the decision, the frame read timeout applies from the first byte.
final class TLSSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let settings: TLSServerSettings
    private let timeout: TimeAmount?
    private let transport: ConnectionTransport
    private let logger: Logger
    private var buffered: ByteBuffer?
    private var deadline: Scheduled<Void>?
    private var decided = false

    /// Bytes needed to tell a ClientHello from a wire message in every case.
    static let decisiveLength = 16

    init(settings: TLSServerSettings, timeout: TimeAmount?, transport: ConnectionTransport, logger: Logger) {
        self.settings = settings
        self.timeout = timeout
        self.transport = transport
        self.logger = logger
    }

    /// What the first bytes say, or nil when more are needed.
    enum Verdict: Equatable { case tls, plain }

    /// Classifies the first bytes of a connection.
    static func classify(_ bytes: ByteBuffer) -> Verdict? {
        let n = bytes.readableBytes
        let start = bytes.readerIndex
        func byte(_ i: Int) -> UInt8? { i < n ? bytes.getInteger(at: start + i, as: UInt8.self) : nil }
        guard let b0 = byte(0) else { return nil }
        if b0 != 0x16 { return .plain }
        guard let b1 = byte(1) else { return nil }
        if b1 != 0x03 { return .plain }
        guard let b2 = byte(2) else { return nil }
        if b2 > 0x04 { return .plain }
        guard let b5 = byte(5) else { return nil }
        if b5 != 0x01 { return .plain }
        guard n >= decisiveLength, let opCode = bytes.getInteger(at: start + 12, endianness: .little, as: Int32.self)
        else { return nil }
        if case .unknown = OpCode(rawValue: opCode) { return .tls }
        return .plain
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = Self.unwrapInboundIn(data)
        guard !decided else {
            context.fireChannelRead(data)
            return
        }
        if var held = buffered {
            buffered = nil
            held.writeBuffer(&incoming)
            incoming = held
        }
        guard let verdict = TLSSniffer.classify(incoming) else {
            buffered = incoming
            armDeadline(context: context)
            return
        }
        decided = true
        deadline?.cancel()
        deadline = nil
        switch verdict {
        case .plain:
            guard settings.mode.servesPlain else {
                refuse(context: context, "a plain (non-TLS) client and --tlsMode requireTLS")
                return
            }
            transport.resolve(.plain)
            context.fireChannelRead(Self.wrapInboundOut(incoming))
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        case .tls:
            guard settings.mode.servesTLS, let contexts = settings.contexts else {
                refuse(context: context, "a TLS handshake (ClientHello) but TLS is disabled (--tlsMode disabled)")
                return
            }
            let ssl = NIOSSLServerHandler(context: contexts.context)
            let watch = TLSHandshakeWatch(ssl: ssl, timeout: timeout, transport: transport, logger: logger)
            do {
                try context.pipeline.syncOperations.addHandler(ssl, position: .after(self))
                try context.pipeline.syncOperations.addHandler(watch, position: .after(ssl))
            } catch {
                refuse(context: context, "could not start TLS: \(error)")
                return
            }
            context.fireChannelRead(Self.wrapInboundOut(incoming))
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        if !decided { transport.resolve(.closed) }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    private func armDeadline(context: ChannelHandlerContext) {
        guard deadline == nil, let timeout else { return }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = bound.value
            guard !handler.decided else { return }
            handler.refuse(context: context, "no complete first message within the frame read timeout")
        }
    }

    private func refuse(context: ChannelHandlerContext, _ reason: String) {
        decided = true
        buffered = nil
        let peer = Connection.describe(context.channel.remoteAddress)
        logger.warning("closing connection from \(peer): \(reason)")
        transport.resolve(.closed)
        context.close(promise: nil)
    }
}
