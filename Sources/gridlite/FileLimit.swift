#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// The daemon keeps a descriptor per client connection and per GridFS segment file (256 MiB each),
/// so the usual soft limit of 1,024 open files would cap a store at ~250 GiB. At start-up the soft
/// limit is raised to the hard limit, as servers commonly do.
enum FileLimit {
    /// Raises the soft limit and returns the limit now in force (nil if it cannot be read).
    @discardableResult
    static func raiseToHardLimit(logger: Logger) -> UInt64? {
        var limit = rlimit()
        #if os(Linux)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        guard getrlimit(resource, &limit) == 0 else { return nil }
        guard limit.rlim_cur < limit.rlim_max else { return UInt64(limit.rlim_cur) }
        let before = limit.rlim_cur
        limit.rlim_cur = limit.rlim_max
        if setrlimit(resource, &limit) == 0 {
            logger.debug("open-file limit raised from \(before) to \(limit.rlim_max)")
            return UInt64(limit.rlim_max)
        }
        logger.warning("could not raise the open-file limit above \(before)")
        return UInt64(before)
    }
}
