import BSON
import Query
import Storage

/// Open cursors, by id. A cursor belongs to the connection that opened it (closing the connection
/// frees it) and to the logical session it was opened in (a getMore from another session cannot
/// see it). Idle cursors expire after ``idleTimeout`` unless opened with `noCursorTimeout`.
public actor CursorRegistry {
    /// One open cursor.
    struct Entry {
        let cursor: any DocumentCursor
        let namespace: Namespace
        let connectionId: Int64
        let session: BSONValue?
        let noTimeout: Bool
        let projection: Projection?
        var lastUsed: ContinuousClock.Instant
        var inUse: Bool
        /// What is left of the creating command's maxTimeMS (nil: no limit). As on mongod, the
        /// time a non-tailable cursor spends in find and its getMores counts against the find's
        /// maxTimeMS; time between getMores does not.
        var timeLeft: Duration?
    }

    /// How long an unused cursor lives (MongoDB's `cursorTimeoutMillis`, 10 minutes).
    public let idleTimeout: Duration
    private var entries: [Int64: Entry] = [:]

    /// Creates an empty registry.
    public init(idleTimeout: Duration = .seconds(600)) {
        self.idleTimeout = idleTimeout
    }

    /// Registers a cursor that has more documents; returns its id (a random positive int64).
    /// `timeLeft` defaults to what is left of the running command's deadline (its maxTimeMS).
    public func register(
        _ cursor: any DocumentCursor, namespace: Namespace, connectionId: Int64, session: BSONValue?,
        noTimeout: Bool, projection: Projection?, timeLeft: Duration? = OperationDeadline.current?.remaining
    ) -> Int64 {
        var id: Int64
        repeat { id = Int64.random(in: 1...Int64.max) } while entries[id] != nil
        entries[id] = Entry(cursor: cursor, namespace: namespace, connectionId: connectionId, session: session,
                            noTimeout: noTimeout, projection: projection, lastUsed: .now, inUse: false,
                            timeLeft: timeLeft)
        return id
    }

    /// What is left of the maxTimeMS of the command that opened cursor `id` (nil: no limit, or no
    /// such cursor). The dispatcher runs a getMore under this budget.
    public func timeLeft(id: Int64) -> Duration? {
        entries[id]?.timeLeft
    }

    /// A checked-out cursor for one getMore.
    public struct Lease: Sendable {
        /// The cursor.
        public let cursor: any DocumentCursor
        /// Its namespace.
        public let namespace: Namespace
        /// The projection to apply to each document.
        public let projection: Projection?
    }

    /// Checks out a cursor for a getMore. Unknown ids, ids from another session, and cursors on
    /// another namespace are `CursorNotFound` (43); a cursor already in use is 143 `CursorInUse`.
    public func checkOut(id: Int64, namespace: Namespace, session: BSONValue?) throws(CommandError) -> Lease {
        guard var entry = entries[id], entry.namespace == namespace, entry.session == session else {
            throw CommandError(.cursorNotFound, "cursor id \(id) not found")
        }
        guard !entry.inUse else {
            throw CommandError(code: 143, codeName: "CursorInUse", message: "cursor id \(id) is already in use")
        }
        entry.inUse = true
        entries[id] = entry
        return Lease(cursor: entry.cursor, namespace: entry.namespace, projection: entry.projection)
    }

    /// Returns a cursor after a getMore; `exhausted` removes it. A cursor with a time budget keeps
    /// what the getMore left of it (`timeLeft`, by default the running command's remaining time).
    public func checkIn(id: Int64, exhausted: Bool, timeLeft: Duration? = OperationDeadline.current?.remaining) async {
        guard var entry = entries[id] else { return }
        if entry.timeLeft != nil, let timeLeft { entry.timeLeft = timeLeft }
        if exhausted {
            entries[id] = nil
            await entry.cursor.close()
            return
        }
        entry.inUse = false
        entry.lastUsed = .now
        entries[id] = entry
    }

    /// Closes and forgets cursor `id` unless a getMore has it checked out (that getMore's own error
    /// path checks it in as exhausted).
    public func discard(id: Int64) async {
        guard let entry = entries[id], !entry.inUse else { return }
        entries[id] = nil
        await entry.cursor.close()
    }

    /// Kills cursors by id on a namespace; returns the ids killed and those not found.
    public func kill(ids: [Int64], namespace: Namespace) async -> (killed: [Int64], notFound: [Int64]) {
        var killed: [Int64] = []
        var notFound: [Int64] = []
        for id in ids {
            if let entry = entries[id], entry.namespace == namespace {
                entries[id] = nil
                await entry.cursor.close()
                killed.append(id)
            } else {
                notFound.append(id)
            }
        }
        return (killed, notFound)
    }

    /// Frees every cursor a connection opened.
    public func closeAll(connectionId: Int64) async {
        let ids = entries.filter { $0.value.connectionId == connectionId }.map(\.key)
        for id in ids {
            if let entry = entries.removeValue(forKey: id) { await entry.cursor.close() }
        }
    }

    /// Frees cursors idle for longer than ``idleTimeout``; returns how many.
    @discardableResult
    public func expireIdle(now: ContinuousClock.Instant = .now) async -> Int {
        let stale = entries.filter { !$0.value.noTimeout && !$0.value.inUse && now - $0.value.lastUsed > idleTimeout }.map(\.key)
        for id in stale {
            if let entry = entries.removeValue(forKey: id) { await entry.cursor.close() }
        }
        return stale.count
    }

    /// Open cursors (for serverStatus `metrics.cursor.open.total`).
    public var openCount: Int { entries.count }
}
