import BSON
import NIOCore
import NIOPosix
import Synchronization

/// A small raw MongoDB wire client for tests: OP_MSG requests, replies read as bytes on demand
/// (auto-read off, 64 KiB per socket read) so a test can stop reading half way through a reply
/// and the server then waits on TCP backpressure.
final class WireClient: Sendable {
    private let channel: any Channel
    private let inbox: Inbox

    /// Bytes received and not yet taken, and whether the peer closed.
    final class Inbox: Sendable {
        private struct State {
            var pending = ByteBuffer()
            var closed = false
            var waiter: CheckedContinuation<Void, Never>?
        }
        private let state = Mutex(State())

        func received(_ buffer: ByteBuffer) {
            let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
                var b = buffer
                s.pending.writeBuffer(&b)
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume()
        }

        func ended() {
            let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
                s.closed = true
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume()
        }

        /// Takes up to `count` bytes if that many are there or the stream ended; nil otherwise.
        func take(_ count: Int) -> [UInt8]? {
            state.withLock { s in
                guard s.pending.readableBytes >= count || s.closed else { return nil }
                return s.pending.readBytes(length: min(count, s.pending.readableBytes)) ?? []
            }
        }

        /// Unless `count` bytes are there already, waits for more bytes or the end after
        /// `request` asks the socket for them.
        func wait(for count: Int, request: @Sendable () -> Void) async {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { s -> Bool in
                    if s.closed || s.pending.readableBytes >= count { return true }
                    s.waiter = c
                    return false
                }
                if ready { c.resume() } else { request() }
            }
        }
    }

    /// Feeds the socket's bytes into the inbox.
    final class Reader: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let inbox: Inbox
        init(_ inbox: Inbox) { self.inbox = inbox }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { inbox.received(unwrapInboundIn(data)) }
        func channelInactive(context: ChannelHandlerContext) { inbox.ended() }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }

    private init(channel: any Channel, inbox: Inbox) {
        self.channel = channel
        self.inbox = inbox
    }

    static func connect(port: Int) async throws -> WireClient {
        let inbox = Inbox()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.so_rcvbuf), value: 64 * 1024)
            .channelOption(.autoRead, value: false)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 64 * 1024))
            .channelInitializer { child in
                child.eventLoop.makeCompletedFuture { try child.pipeline.syncOperations.addHandler(Reader(inbox)) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return WireClient(channel: channel, inbox: inbox)
    }

    private static let requestIDs = ManagedAtomicCounter()

    /// Sends an OP_MSG with `body` (and `$db`) and optional document sequences.
    func send(_ body: BSONDocument, db: String, sequences: [(String, [BSONDocument])] = []) async throws {
        var full = body
        full.append("$db", .string(db))
        var payload: [UInt8] = [0, 0, 0, 0, 0]
        payload.append(contentsOf: full.bytes)
        for (identifier, docs) in sequences {
            var section: [UInt8] = Array(identifier.utf8) + [0]
            for d in docs { section.append(contentsOf: d.bytes) }
            let size = UInt32(section.count + 4)
            payload.append(1)
            payload.append(contentsOf: withUnsafeBytes(of: size.littleEndian, Array.init))
            payload.append(contentsOf: section)
        }
        try await sendRaw(opCode: 2013, payload)
    }

    /// Sends one frame with the given opcode and payload (after the 16-byte header).
    func sendRaw(opCode: Int32, _ payload: [UInt8], declaredLength: Int32? = nil) async throws {
        var buffer = channel.allocator.buffer(capacity: payload.count + 16)
        buffer.writeInteger(declaredLength ?? Int32(payload.count + 16), endianness: .little)
        buffer.writeInteger(WireClient.requestIDs.next(), endianness: .little)
        buffer.writeInteger(Int32(0), endianness: .little)
        buffer.writeInteger(opCode, endianness: .little)
        buffer.writeBytes(payload)
        try await channel.writeAndFlush(buffer)
    }

    /// Reads `count` bytes (fewer only at end of stream).
    func read(atLeast count: Int) async throws -> [UInt8] {
        while true {
            if let bytes = inbox.take(count) { return bytes }
            let channel = self.channel
            await inbox.wait(for: count) { channel.read() }
        }
    }

    /// Reads one whole reply frame and returns its OP_MSG body, or nil at end of stream.
    func readReply() async throws -> BSONDocument? {
        let header = try await read(atLeast: 16)
        guard header.count == 16 else { return nil }
        let length = Int(Int32(littleEndian: header.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }))
        let rest = try await read(atLeast: length - 16)
        guard rest.count == length - 16, rest.count > 5, rest[4] == 0 else { return nil }
        return try BSONDocument(validating: rest[5...])
    }

    /// Sends a command and reads its reply.
    func command(_ body: BSONDocument, db: String = "admin", sequences: [(String, [BSONDocument])] = []) async throws -> BSONDocument? {
        try await send(body, db: db, sequences: sequences)
        return try await readReply()
    }

    /// Reads until the server closes the connection; returns the bytes that came meanwhile.
    func readUntilClosed() async throws -> Int {
        var total = 0
        while true {
            let chunk = try await read(atLeast: 1 << 20)
            total += chunk.count
            if chunk.count < 1 << 20 { return total }
        }
    }

    /// Closes the socket at once (as a killed client would).
    func close() async {
        try? await channel.close()
    }
}

/// Request ids for the test client.
final class ManagedAtomicCounter: Sendable {
    private let value = Mutex<Int32>(0)
    func next() -> Int32 { value.withLock { $0 &+= 1; return $0 } }
}
