import Logging
import ServiceLifecycle
import Storage

/// Runs the storage engine's background housekeeping (``StorageEngine/maintenance()``, e.g. reclaiming
/// space of deleted GridFS files) every `interval` until shutdown; several steps in a row while there
/// is work.
public enum MaintenanceService {
    /// The housekeeping as a service.
    public static func service(storage: any StorageEngine, interval: Duration = .seconds(10), logger: Logger) -> PeriodicService {
        PeriodicService(every: interval) {
            do {
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
