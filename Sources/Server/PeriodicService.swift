import Logging
import ServiceLifecycle

/// A service that runs `body` every `interval` until graceful shutdown (which cancels the sleep).
/// The cursor reaper and storage maintenance are both this.
public struct PeriodicService: Service {
    let interval: Duration
    let body: @Sendable () async -> Void

    /// Creates the service.
    public init(every interval: Duration, _ body: @escaping @Sendable () async -> Void) {
        self.interval = interval
        self.body = body
    }

    /// Sleeps and runs until graceful shutdown.
    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await body()
            }
        }
    }
}
