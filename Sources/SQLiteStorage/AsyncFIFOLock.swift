import Executors
import Synchronization

/// A lock for async code that hands itself out in request order: a task that finds it held suspends
/// (its thread stays free for other work) and is resumed when every earlier holder has unlocked.
///
/// Guards the writer connection, so writes stay serialized in submission order whether their body then
/// runs inline on a `BlockingExecutor` thread or on the writer's dispatch queue.
final class AsyncFIFOLock: Sendable {
    /// One task waiting for the lock; `continuation` is nil once its wait timed out.
    private struct Waiter {
        let id: UInt64
        var continuation: CheckedContinuation<Bool, Never>?
    }

    /// Whether the lock is held, and the tasks waiting for it, oldest first (from `head`).
    private struct State {
        var isLocked = false
        var waiters: [Waiter] = []
        var head = 0
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Creates an unlocked lock.
    init() {}

    /// Takes the lock, suspending until every earlier request has been served. Not cancellable.
    func lock() async {
        _ = await lock(until: nil)
    }

    /// Takes the lock, suspending until every earlier request has been served or `deadline` passes
    /// (an operation's maxTimeMS); returns false when the wait gave up (the lock is then not held).
    func lock(until deadline: ContinuousClock.Instant?) async -> Bool {
        let acquired = state.withLock { state in
            guard !state.isLocked else { return false }
            state.isLocked = true
            return true
        }
        if acquired { return true }
        var timer: Task<Void, Never>?
        let got = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let id: UInt64? = state.withLock { state in
                guard state.isLocked else {
                    state.isLocked = true
                    return nil
                }
                state.nextID &+= 1
                state.waiters.append(Waiter(id: state.nextID, continuation: continuation))
                return state.nextID
            }
            guard let id else {
                continuation.resume(returning: true)
                return
            }
            if let deadline {
                timer = Task { [self] in
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    if !Task.isCancelled { giveUp(id) }
                }
            }
        }
        timer?.cancel()
        return got
    }

    /// Ends the wait of waiter `id` if it is still waiting (its deadline passed).
    private func giveUp(_ id: UInt64) {
        let continuation: CheckedContinuation<Bool, Never>? = state.withLock { state in
            guard let index = state.waiters[state.head...].firstIndex(where: { $0.id == id }) else { return nil }
            let continuation = state.waiters[index].continuation
            state.waiters[index].continuation = nil
            return continuation
        }
        continuation?.resume(returning: false)
    }

    /// Releases the lock, handing it straight to the oldest waiter still waiting when there is one
    /// (the lock stays held, so no later `lock()` can overtake it).
    func unlock() {
        let next: CheckedContinuation<Bool, Never>? = state.withLock { state in
            var next: CheckedContinuation<Bool, Never>?
            while next == nil, state.head < state.waiters.count {
                next = state.waiters[state.head].continuation
                state.waiters[state.head].continuation = nil
                state.head += 1
            }
            if state.head == state.waiters.count {
                state.waiters.removeAll(keepingCapacity: true)
                state.head = 0
            }
            if next == nil { state.isLocked = false }
            return next
        }
        next?.resume(returning: true)
    }
}
