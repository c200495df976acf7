import NIOCore
import Synchronization

/// Lets graceful shutdown close a connection only between commands: an idle connection is closed
/// at once; a busy one finishes its command, sends the reply, then closes.
final class ConnectionGate: Sendable {
    private enum State: Int {
        case idle = 0
        case busy = 1
        case closing = 2
    }

    private let state = Atomic<Int>(State.idle.rawValue)
    private let channel: any Channel

    init(channel: any Channel) {
        self.channel = channel
    }

    /// Marks the start of a command; false when shutdown has begun and the command must not run.
    func enter() -> Bool {
        state.compareExchange(expected: State.idle.rawValue, desired: State.busy.rawValue, ordering: .acquiringAndReleasing).exchanged
    }

    /// Marks the end of a command; false when shutdown began meanwhile and the connection must close.
    func leave() -> Bool {
        state.compareExchange(expected: State.busy.rawValue, desired: State.idle.rawValue, ordering: .acquiringAndReleasing).exchanged
    }

    /// Called on graceful shutdown: closes an idle connection now, or flags a busy one.
    func shutdown() {
        let previous = state.exchange(State.closing.rawValue, ordering: .acquiringAndReleasing)
        if previous == State.idle.rawValue {
            channel.close(promise: nil)
        }
    }
}
