#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix
import Wire

/// The ceiling served the way gridlite serves connections: `NIOAsyncChannel`s, one task per
/// connection preferring its event loop as task executor, replies written through the async
/// outbound writer. Same commands, same replies as ``CeilingHandler``.
enum AsyncCeiling {
    static func serve(group: MultiThreadedEventLoopGroup, host: String, port: Int, commands: CeilingCommands) async throws {
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(WireFrameHandler())
                    return try NIOAsyncChannel<WireFrame, ByteBuffer>(wrappingChannelSynchronously: child)
                }
            }
        let line = "listening on \(host):\(server.channel.localAddress?.port ?? port)\n"
        _ = line.withCString { write(1, $0, strlen($0)) }
        var nextId = 0
        try await withThrowingDiscardingTaskGroup { tasks in
            try await server.executeThenClose { inbound in
                for try await connection in inbound {
                    nextId += 1
                    let id = nextId
                    let executor = LoopExecutor(connection.channel.eventLoop)
                    tasks.addTask(executorPreference: executor) {
                        await handle(connection, id: id, commands: commands)
                    }
                }
            }
        }
    }

    /// One connection's requests, answered in order.
    static func handle(_ connection: NIOAsyncChannel<WireFrame, ByteBuffer>, id: Int, commands: CeilingCommands) async {
        let allocator = connection.channel.allocator
        do {
            try await connection.executeThenClose { frames, outbound in
                try await answerAll(frames, outbound, id: id, commands: commands, allocator: allocator)
            }
        } catch {
            return
        }
    }

    private static func answerAll(_ frames: NIOAsyncChannelInboundStream<WireFrame>,
                                  _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
                                  id: Int, commands: CeilingCommands, allocator: ByteBufferAllocator) async throws {
        var replyId: Int32 = 1
        var iterator = frames.makeAsyncIterator()
        while let frame = try await iterator.next() {
            let reply = try CeilingHandler.answer(frame, commands: commands, connectionId: id, replyId: replyId,
                                                  allocator: allocator)
            replyId &+= 1
            guard let reply else { continue }
            try await outbound.write(reply)
        }
    }
}

/// Runs a task's jobs on one event loop (as gridlite's `EventLoopTaskExecutor`).
final class LoopExecutor: TaskExecutor, Sendable {
    let eventLoop: any EventLoop
    init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { [self] in job.runSynchronously(on: asUnownedTaskExecutor()) }
    }
}
