import Synchronization

/// Process-wide counters reported by `serverStatus`: connections and operation counts.
/// Lock-free atomics, so counting costs nothing on the request path.
public final class ServerCounters: Sendable {
    /// Open connections.
    public let currentConnections = Atomic<Int>(0)
    /// Connections accepted since start.
    public let totalConnections = Atomic<Int>(0)
    /// `opcounters.insert`: documents inserted.
    public let inserts = Atomic<Int>(0)
    /// `opcounters.query`: find commands.
    public let queries = Atomic<Int>(0)
    /// `opcounters.update`: update statements.
    public let updates = Atomic<Int>(0)
    /// `opcounters.delete`: delete statements.
    public let deletes = Atomic<Int>(0)
    /// `opcounters.getmore`.
    public let getMores = Atomic<Int>(0)
    /// `opcounters.command`: every other command.
    public let commands = Atomic<Int>(0)
    /// Last connection id handed out.
    private let lastConnectionId = Atomic<Int64>(0)

    /// Creates zeroed counters.
    public init() {}

    /// Registers a new connection and returns its id (1, 2, 3…).
    public func connectionOpened() -> Int64 {
        currentConnections.add(1, ordering: .relaxed)
        totalConnections.add(1, ordering: .relaxed)
        return lastConnectionId.add(1, ordering: .relaxed).newValue
    }

    /// Registers a closed connection.
    public func connectionClosed() {
        currentConnections.subtract(1, ordering: .relaxed)
    }

    /// Adds `n` to a counter.
    public static func bump(_ counter: borrowing Atomic<Int>, by n: Int = 1) {
        counter.add(n, ordering: .relaxed)
    }
}
