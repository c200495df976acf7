import Commands
import Logging
import ServiceLifecycle

/// Frees cursors idle past their timeout, once a minute, until shutdown.
public enum CursorReaper {
    /// The reaper as a service.
    public static func service(cursors: CursorRegistry, interval: Duration = .seconds(60), logger: Logger) -> PeriodicService {
        PeriodicService(every: interval) {
            let n = await cursors.expireIdle()
            if n > 0 { logger.debug("expired \(n) idle cursors") }
        }
    }
}
