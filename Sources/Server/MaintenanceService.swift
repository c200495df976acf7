import Logging
import ServiceLifecycle
import Storage

/// Runs the storage engine's background housekeeping (``StorageEngine/maintenance()``, e.g. reclaiming
/// space of deleted GridFS files) every `interval` until shutdown; keeps going while there is work.
public struct MaintenanceService: Service {
    let storage: any StorageEngine
    let interval: Duration
    let logger: Logger

    /// Creates the service.
    public init(storage: any StorageEngine, interval: Duration = .seconds(10), logger: Logger) {
        self.storage = storage
        self.interval = interval
        self.logger = logger
    }

    /// Sleeps and maintains until graceful shutdown, which cancels the sleep.
    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                do {
                    // Several steps in a row while there is work, but stop at shutdown.
                    for _ in 0..<8 {
                        let done = try await storage.maintenance()
                        for line in done { logger.info("\(line)") }
                        if done.isEmpty || Task.isCancelled { break }
                    }
                } catch {
                    logger.warning("storage maintenance failed: \(error)")
                }
            }
        }
    }
}
