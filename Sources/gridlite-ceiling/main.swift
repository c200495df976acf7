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
// Usage: gridlite-ceiling [--host H] [--port P]    (prints "listening on H:P")

var host = "127.0.0.1"
var port = 27018
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--host": host = arguments.next() ?? host
    case "--port": port = arguments.next().flatMap { Int($0) } ?? port
    default:
        print("usage: gridlite-ceiling [--host H] [--port P]")
        exit(2)
    }
}

let store = CeilingStore()
let commands = CeilingCommands(store: store)
let connectionIds = Atomic<Int>(0)
let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
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
