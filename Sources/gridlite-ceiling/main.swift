#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix
import Synchronization
import Wire

// gridlite-ceiling: an in-memory stand-in that answers GridFS clients' commands with no storage
// work, to measure the most any server can deliver to a client (see docs/benchmarks.md).
//
// Usage: gridlite-ceiling [--host H] [--port P] [--async]    (prints "listening on H:P")
//
// `--async` serves each connection as gridlite does: an `NIOAsyncChannel` read by a task that runs
// on its connection's event loop (a task executor), instead of a channel handler. The difference
// between the two modes is what that structure costs per request (docs/performance.md).

var host = "127.0.0.1"
var port = 27018
var asyncMode = false
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--host": host = arguments.next() ?? host
    case "--port": port = arguments.next().flatMap { Int($0) } ?? port
    case "--async": asyncMode = true
    default:
        print("usage: gridlite-ceiling [--host H] [--port P] [--async]")
        exit(2)
    }
}

let store = CeilingStore()
let commands = CeilingCommands(store: store)
let connectionIds = Atomic<Int>(0)
let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
if asyncMode {
    try await AsyncCeiling.serve(group: group, host: host, port: port, commands: commands)
    exit(0)
}
let channel = try ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 256)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { child in
        child.eventLoop.makeCompletedFuture {
            let id = connectionIds.add(1, ordering: .relaxed).newValue
            try child.pipeline.syncOperations.addHandler(WireFrameHandler())
            try child.pipeline.syncOperations.addHandler(CeilingHandler(commands: commands, connectionId: id))
        }
    }
    .bind(host: host, port: port)
    .wait()
let line = "listening on \(host):\(channel.localAddress?.port ?? port)\n"
_ = line.withCString { write(1, $0, strlen($0)) }
try channel.closeFuture.wait()
