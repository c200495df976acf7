import Executors
import Synchronization

/// A lock for async code that hands itself out in request order: a task that finds it held suspends
/// (its thread stays free for other work) and is resumed when every earlier holder has unlocked.
///
/// Guards the writer connection, so writes stay serialized in submission order whether their body then
/// runs inline on a `BlockingExecutor` thread or on the writer's dispatch queue.
final class AsyncFIFOLock: Sendable {
    /// Whether the lock is held, and the tasks waiting for it, oldest first (from `head`).
    private struct State {
        var isLocked = false
        var waiters: [CheckedContinuation<Void, Never>] = []
        var head = 0
    }

    private let state = Mutex(State())

    /// Creates an unlocked lock.
    init() {}

    /// Takes the lock, suspending until every earlier request has been served. Not cancellable.
    func lock() async {
        let acquired = state.withLock { state in
            guard !state.isLocked else { return false }
            state.isLocked = true
            return true
        }
        if acquired { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = state.withLock { state in
                guard state.isLocked else {
                    state.isLocked = true
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if acquired { continuation.resume() }
        }
    }

    /// Releases the lock, handing it straight to the oldest waiter when there is one (the lock stays
    /// held, so no later `lock()` can overtake it).
    func unlock() {
        let next: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard state.head < state.waiters.count else {
                state.isLocked = false
                return nil
            }
            let next = state.waiters[state.head]
            state.head += 1
            if state.head == state.waiters.count {
                state.waiters.removeAll(keepingCapacity: true)
                state.head = 0
            }
            return next
        }
        next?.resume()
    }
}
