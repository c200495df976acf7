import Commands
import Logging
import ServiceLifecycle

/// Frees cursors idle past their timeout, once a minute, until shutdown.
public struct CursorReaper: Service {
    let cursors: CursorRegistry
    let interval: Duration
    let logger: Logger

    /// Creates the reaper.
    public init(cursors: CursorRegistry, interval: Duration = .seconds(60), logger: Logger) {
        self.cursors = cursors
        self.interval = interval
        self.logger = logger
    }

    /// Sleeps and sweeps until graceful shutdown, which cancels the sleep.
    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                let n = await cursors.expireIdle()
                if n > 0 { logger.debug("expired \(n) idle cursors") }
            }
        }
    }
}
