import BSON
import Synchronization

/// The live connections and what each is running, for `currentOp` and `serverStatus`.
///
/// The registry's own lock is taken only when a connection opens or closes; each command touches
/// just its connection's ``ConnectionActivity`` (an uncontended lock, twice per command).
public final class ConnectionRegistry: Sendable {
    private let live = Mutex<[Int64: ConnectionActivity]>([:])
    private let nextOpId = Atomic<Int64>(0)

    /// Creates an empty registry.
    public init() {}

    /// Registers a just-accepted connection; call ``close(_:)`` when it ends.
    public func open(_ session: ConnectionSession) -> ConnectionActivity {
        let activity = ConnectionActivity(session: session, registry: self)
        live.withLock { $0[session.connection.id] = activity }
        return activity
    }

    /// Removes a closed connection.
    public func close(_ activity: ConnectionActivity) {
        _ = live.withLock { $0.removeValue(forKey: activity.connectionId) }
    }

    /// Every live connection with its session and in-flight operation, by connection id.
    public func snapshot() -> [ConnectionActivity.Snapshot] {
        let all = live.withLock { Array($0.values) }
        return all.map { $0.snapshot() }.sorted { $0.session.connection.id < $1.session.connection.id }
    }

    /// Open connections.
    public var count: Int { live.withLock { $0.count } }

    fileprivate func makeOpId() -> Int64 { nextOpId.add(1, ordering: .relaxed).newValue }
}

/// One connection's live state as other connections may see it: its session (as of its last
/// change) and the command it is running, if any.
public final class ConnectionActivity: Sendable {
    /// A command in flight.
    public struct Operation: Sendable {
        /// Process-wide operation id (`opid`).
        public let id: Int64
        /// The command name.
        public let name: String
        /// The database it targets.
        public let database: String
        /// The command body as received.
        public let command: BSONDocument
        /// When it started (monotonic, for `secs_running`).
        public let started: ContinuousClock.Instant
    }

    /// A consistent copy of the connection's state.
    public struct Snapshot: Sendable {
        /// The session as of its last change.
        public let session: ConnectionSession
        /// The command in flight, or nil when idle.
        public let operation: Operation?
    }

    private struct State {
        var session: ConnectionSession
        var operation: Operation?
    }

    /// The connection's id.
    public let connectionId: Int64
    private let state: Mutex<State>
    private let registry: ConnectionRegistry

    fileprivate init(session: ConnectionSession, registry: ConnectionRegistry) {
        self.connectionId = session.connection.id
        self.state = Mutex(State(session: session, operation: nil))
        self.registry = registry
    }

    /// Records the session after a change.
    public func update(_ session: ConnectionSession) {
        state.withLock { $0.session = session }
    }

    /// Marks a command as started.
    public func begin(_ request: CommandRequest, at started: ContinuousClock.Instant) {
        let op = Operation(
            id: registry.makeOpId(), name: request.name, database: request.database, command: AuthRedaction.body(of: request),
            started: started)
        state.withLock { $0.operation = op }
    }

    /// Marks the command as finished.
    public func end() {
        state.withLock { $0.operation = nil }
    }

    /// A copy of the current state.
    public func snapshot() -> Snapshot {
        state.withLock { Snapshot(session: $0.session, operation: $0.operation) }
    }
}
