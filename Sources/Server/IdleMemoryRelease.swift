#if canImport(Glibc)
import Glibc
#endif
import Commands
import Synchronization

/// Gives freed heap memory back to the kernel once the server has been idle for a maintenance
/// interval.
///
/// Why: glibc keeps memory a thread freed in that thread's arena, and the daemon runs up to 64
/// executor threads, so after a burst of large requests RSS stays near its peak for good (the soak
/// run ended 117–129 MiB above its start; docs/reliability.md). `malloc_trim(0)` returns the free
/// pages of every arena. It walks the arenas while holding their locks, so it runs only when no
/// request arrived since the previous tick, and once per idle period.
public final class IdleMemoryRelease: Sendable {
    private struct State {
        var lastRequests: Int64 = -1
        var trimmedSinceActivity = false
    }

    private let counters: ServerCounters
    private let state = Mutex(State())

    /// Watches `counters.requests` for activity.
    public init(counters: ServerCounters) {
        self.counters = counters
    }

    /// Called once per maintenance tick; trims when nothing was requested since the last tick.
    /// Returns true when it trimmed.
    @discardableResult
    public func tick() -> Bool {
        let requests = ServerCounters.read(counters.requests)
        let shouldTrim = state.withLock { state -> Bool in
            defer { state.lastRequests = requests }
            if requests != state.lastRequests {
                state.trimmedSinceActivity = false
                return false
            }
            guard !state.trimmedSinceActivity else { return false }
            state.trimmedSinceActivity = true
            return true
        }
        guard shouldTrim else { return false }
        _ = mallocTrim?(0)
        return true
    }
}

/// glibc's `malloc_trim` (declared in malloc.h, which the Swift overlay does not import), looked up once.
#if os(Linux)
private let mallocTrim: (@convention(c) (Int) -> Int32)? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
}()
#else
private let mallocTrim: ((Int) -> Int32)? = nil
#endif
