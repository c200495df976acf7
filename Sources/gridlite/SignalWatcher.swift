import Logging
import UnixSignals

/// Logs SIGTERM/SIGINT at info level and starts a graceful shutdown; later signals are logged too
/// (the shutdown is already under way).
enum SignalWatcher {
    /// Traps SIGTERM and SIGINT until the returned task is cancelled.
    static func start(logger: Logger, shutdown: @escaping @Sendable () async -> Void) async -> Task<Void, Never> {
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        return Task {
            var first = true
            for await signal in signals {
                if first {
                    logger.info("received \(signal), shutting down")
                    first = false
                    await shutdown()
                } else {
                    logger.info("received \(signal) again; already shutting down")
                }
            }
        }
    }
}
