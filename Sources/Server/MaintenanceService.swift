import Logging
import ServiceLifecycle
import Storage

/// Runs the storage engine's background housekeeping (``StorageEngine/maintenance()``, e.g. reclaiming
/// space of deleted GridFS files) every `interval` until shutdown; several steps in a row while there
/// is work.
public enum MaintenanceService {
    /// The housekeeping as a service; with `memory`, freed heap memory is also given back to the
    /// kernel once a tick finds the server idle.
    public static func service(
        storage: any StorageEngine, memory: IdleMemoryRelease? = nil, interval: Duration = .seconds(10), logger: Logger
    ) -> PeriodicService {
        PeriodicService(every: interval) {
            defer {
                // After the storage's own idle work (which frees its caches), so that memory goes back too.
                if memory?.tick() == true { logger.debug("idle: freed heap memory returned to the kernel") }
            }
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
