import Logging
import UnixSignals

/// Logs SIGTERM/SIGINT at info level and starts a graceful shutdown; later signals are logged too
/// (the shutdown is already under way). SIGHUP runs `reload` (the TLS certificate) and nothing else.
enum SignalWatcher {
    /// Traps SIGTERM, SIGINT and SIGHUP until the returned task is cancelled.
    static func start(
        logger: Logger, reload: @escaping @Sendable () -> Void, shutdown: @escaping @Sendable () async -> Void
    ) async -> Task<Void, Never> {
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint, .sighup)
        return Task {
            var first = true
            for await signal in signals {
                if signal == .sighup {
                    logger.info("received \(signal)")
                    reload()
                } else if first {
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
