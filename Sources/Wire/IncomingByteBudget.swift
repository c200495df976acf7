import Synchronization

/// A process-wide cap on the bytes of client requests held at once: from the moment a frame's
/// length is known until its reply has been written (or, for a frame that gets no reply, until the
/// frame is dropped after parsing).
///
/// It never fails a request: a reader whose next frame does not fit waits — its connection stops
/// reading from the socket, so TCP flow control pushes back on the client — until enough bytes
/// are released. Waiters are served in arrival order, so a 48 MB insert is not starved by a
/// stream of small commands. A frame larger than the whole budget still goes through when nothing
/// else is held, so a budget below the message size limit cannot deadlock.
///
/// The `Sendable` reference is shared by every connection's ``WireFrameHandler``; grants are
/// delivered through the closure passed to ``request(_:onGrant:)``, on whatever thread released
/// the bytes (handlers hop to their event loop).
public final class IncomingByteBudget: Sendable {
    /// A claim on part of the budget; released once, explicitly or when the last reference goes.
    public final class Reservation: Sendable {
        /// The bytes claimed.
        public let bytes: Int
        private let budget: IncomingByteBudget
        private let released = Atomic<Bool>(false)

        fileprivate init(bytes: Int, budget: IncomingByteBudget) {
            self.bytes = bytes
            self.budget = budget
        }

        /// Gives the bytes back (idempotent).
        public func release() {
            guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
            budget.giveBack(bytes)
        }

        deinit { release() }
    }

    /// Identifies a queued request, for ``cancel(_:)``.
    public struct Ticket: Sendable, Hashable {
        fileprivate let id: UInt64
    }

    /// The outcome of ``request(_:onGrant:)``.
    public enum Outcome: Sendable {
        /// The bytes were available: here is the reservation.
        case granted(Reservation)
        /// The bytes are not available: `onGrant` will be called with the reservation later.
        case queued(Ticket)
    }

    private struct Waiter {
        let id: UInt64
        let bytes: Int
        let onGrant: @Sendable (Reservation) -> Void
    }

    private struct State {
        var used = 0
        var peak = 0
        var nextID: UInt64 = 0
        var waiters: [Waiter] = []
        var waitsTotal = 0
    }

    /// The most bytes that may be held at once.
    public let limit: Int
    private let state = Mutex(State())

    /// A budget of `limit` bytes (at least 1).
    public init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Bytes currently held.
    public var bytesInUse: Int { state.withLock { $0.used } }

    /// The most bytes held at once since start.
    public var peakBytesInUse: Int { state.withLock { $0.peak } }

    /// Readers waiting for bytes right now.
    public var waitingReaders: Int { state.withLock { $0.waiters.count } }

    /// How many times a reader had to wait, since start.
    public var totalWaits: Int { state.withLock { $0.waitsTotal } }

    /// Claims `bytes` now if they fit (or nothing is held) and nobody is queued before; otherwise
    /// queues the request and later calls `onGrant` with the reservation.
    public func request(_ bytes: Int, onGrant: @escaping @Sendable (Reservation) -> Void) -> Outcome {
        let bytes = max(0, bytes)
        // After every change the queue's head does not fit (grantWaiters runs), so a request that
        // finds a queue waits behind it.
        let ticket: Ticket? = state.withLock { s in
            if s.waiters.isEmpty && fits(bytes, used: s.used) {
                s.used &+= bytes
                s.peak = max(s.peak, s.used)
                return nil
            }
            s.nextID &+= 1
            s.waitsTotal &+= 1
            s.waiters.append(Waiter(id: s.nextID, bytes: bytes, onGrant: onGrant))
            return Ticket(id: s.nextID)
        }
        if let ticket { return .queued(ticket) }
        return .granted(Reservation(bytes: bytes, budget: self))
    }

    /// Claims `bytes`, waiting (without blocking a thread) until they fit or nothing else is held.
    /// For memory a request is about to allocate outside the frame handler (an OP_COMPRESSED
    /// message's inflated copy): the connection asks before inflating, holding nothing of this
    /// budget while it waits, so waiters cannot deadlock each other.
    public func reserve(_ bytes: Int) async -> Reservation {
        await withCheckedContinuation { continuation in
            switch request(bytes, onGrant: { continuation.resume(returning: $0) }) {
            case .granted(let reservation): continuation.resume(returning: reservation)
            case .queued: break
            }
        }
    }

    /// Claims `bytes` unconditionally: for bytes already in memory (a frame that arrived whole).
    public func charge(_ bytes: Int) -> Reservation {
        let bytes = max(0, bytes)
        state.withLock { s in
            s.used &+= bytes
            s.peak = max(s.peak, s.used)
        }
        return Reservation(bytes: bytes, budget: self)
    }

    /// Withdraws a queued request; false if it was already granted (its `onGrant` runs or ran).
    @discardableResult
    public func cancel(_ ticket: Ticket) -> Bool {
        let removed = state.withLock { s -> Bool in
            guard let index = s.waiters.firstIndex(where: { $0.id == ticket.id }) else { return false }
            s.waiters.remove(at: index)
            return true
        }
        // The head may have been what blocked the others.
        if removed { grantWaiters() }
        return removed
    }

    private func fits(_ bytes: Int, used: Int) -> Bool {
        used == 0 || bytes <= limit &- used
    }

    private func giveBack(_ bytes: Int) {
        state.withLock { s in s.used = max(0, s.used &- bytes) }
        grantWaiters()
    }

    /// Grants queued requests in order while the head fits; calls their closures outside the lock.
    private func grantWaiters() {
        let ready: [Waiter] = state.withLock { s in
            var ready: [Waiter] = []
            while let head = s.waiters.first, fits(head.bytes, used: s.used) {
                s.waiters.removeFirst()
                s.used &+= head.bytes
                s.peak = max(s.peak, s.used)
                ready.append(head)
            }
            return ready
        }
        for waiter in ready {
            waiter.onGrant(Reservation(bytes: waiter.bytes, budget: self))
        }
    }
}
