import Synchronization

/// Slows down repeated failed logins from one address: after ``freeFailures`` failures, each further
/// failed attempt's reply waits 100 ms more per failure, up to ``maxDelay``. Only the failing
/// connection waits (its own task sleeps); other clients are never delayed. An address that stops
/// failing for ``forgetAfter`` starts afresh, as does one that logs in.
public final class AuthFailureThrottle: Sendable {
    /// Failures answered at once.
    public static let freeFailures = 5
    /// Delay added per failure beyond ``freeFailures``.
    public static let step = Duration.milliseconds(100)
    /// Longest delay.
    public static let maxDelay = Duration.seconds(5)
    /// Quiet time after which an address's failures are forgotten.
    public static let forgetAfter = Duration.seconds(60)
    /// Most addresses tracked (older entries are dropped first when full).
    static let maxTracked = 10_000

    private struct Entry {
        var failures: Int
        var last: ContinuousClock.Instant
    }

    private let entries = Mutex<[String: Entry]>([:])

    /// Creates a throttle with no history.
    public init() {}

    /// Records a failure from `address` (a host, without the port) and returns how long to delay
    /// the reply, and how many failures in a row the address has now.
    public func recordFailure(_ address: String, now: ContinuousClock.Instant = .now) -> (delay: Duration, failures: Int) {
        entries.withLock { entries in
            var entry = entries[address] ?? Entry(failures: 0, last: now)
            if now - entry.last > AuthFailureThrottle.forgetAfter { entry.failures = 0 }
            entry.failures = min(entry.failures + 1, 1_000_000)
            entry.last = now
            if entries[address] == nil, entries.count >= AuthFailureThrottle.maxTracked {
                entries = entries.filter { now - $0.value.last <= AuthFailureThrottle.forgetAfter }
                if entries.count >= AuthFailureThrottle.maxTracked { entries.removeAll(keepingCapacity: true) }
            }
            entries[address] = entry
            let excess = entry.failures - AuthFailureThrottle.freeFailures
            let delay = excess > 0 ? min(AuthFailureThrottle.step * excess, AuthFailureThrottle.maxDelay) : .zero
            return (delay, entry.failures)
        }
    }

    /// Forgets `address`'s failures (it logged in).
    public func recordSuccess(_ address: String) {
        _ = entries.withLock { $0.removeValue(forKey: address) }
    }

    /// The host part of a `host:port` peer address (IPv6 `::1:5000` → `::1`).
    public static func host(of remote: String) -> String {
        guard let colon = remote.lastIndex(of: ":") else { return remote }
        return String(remote[..<colon])
    }
}
