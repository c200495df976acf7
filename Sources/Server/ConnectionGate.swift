import NIOCore
import Synchronization

/// Lets graceful shutdown close a connection only between commands: an idle connection is closed
/// at once; a busy one finishes its command, sends the reply, then closes.
///
/// "Closed" means drained first: a reply handed to NIO may still be on its way (a 16 MiB batch to
/// a slow reader), and a plain `close()` drops unwritten bytes. So the write side is shut only
/// once every pending byte has reached the socket, then the connection closes — or after
/// the drain limit (``ServerConfiguration/shutdownDrainLimit``), for a client that stopped reading.
final class ConnectionGate: Sendable {
    private enum State: Int {
        case idle = 0
        case busy = 1
        case closing = 2
    }

    private let state = Atomic<Int>(State.idle.rawValue)
    private let channel: any Channel
    private let drainLimit: TimeAmount

    init(channel: any Channel, drainLimit: TimeAmount) {
        self.channel = channel
        self.drainLimit = drainLimit
    }

    /// Marks the start of a command; false when shutdown has begun and the command must not run.
    func enter() -> Bool {
        state.compareExchange(expected: State.idle.rawValue, desired: State.busy.rawValue, ordering: .acquiringAndReleasing).exchanged
    }

    /// Marks the end of a command; false when shutdown began meanwhile and the connection must close.
    func leave() -> Bool {
        state.compareExchange(expected: State.busy.rawValue, desired: State.idle.rawValue, ordering: .acquiringAndReleasing).exchanged
    }

    /// Called on graceful shutdown: closes an idle connection now (after draining its replies),
    /// or flags a busy one.
    func shutdown() {
        let previous = state.exchange(State.closing.rawValue, ordering: .acquiringAndReleasing)
        if previous == State.idle.rawValue {
            ConnectionGate.drainThenClose(channel, within: drainLimit)
        }
    }

    /// Shuts the write side once every pending reply byte is written, then closes the channel
    /// (at the latest after `drainLimit`). Returns when the channel is closed.
    @discardableResult
    static func drainThenClose(_ channel: any Channel, within drainLimit: TimeAmount) -> EventLoopFuture<Void> {
        let deadline = channel.eventLoop.scheduleTask(in: drainLimit) { channel.close(promise: nil) }
        let drained = channel.eventLoop.makePromise(of: Void.self)
        channel.close(mode: .output, promise: drained)
        drained.futureResult.whenComplete { _ in
            deadline.cancel()
            channel.close(promise: nil)
        }
        return channel.closeFuture
    }
}
