/// How the operator tools (fsck, backup, restore, the offline writers) take a data directory's
/// lock: they run offline with the lock, or beside the daemon that holds it (read-only, through a
/// ``ReadSnapshot``); any other failure is one line for the operator.
extension DataDirectoryLock {
    /// What a tool got.
    public enum ToolAccess {
        /// The lock is ours: no daemon runs; released by ``DataDirectoryLock/release()``.
        case exclusive(DataDirectoryLock)
        /// A daemon (or another tool) holds it; its pid when the lock file names one.
        case served(pid: Int32?)

        /// The lock when exclusive.
        public var lock: DataDirectoryLock? {
            if case .exclusive(let lock) = self { return lock }
            return nil
        }
    }

    /// Tries the lock of `directory` for a tool; I/O failures throw ``Fsck/Failure``.
    public static func forTool(directory: String) throws -> ToolAccess {
        do {
            return .exclusive(try acquire(directory: directory))
        } catch .held(_, let pid) {
            return .served(pid: pid)
        } catch {
            throw Fsck.Failure("\(error)")
        }
    }
}

extension DataDirectoryLock.ToolAccess {
    /// The lock, or ``Fsck/Failure`` naming the daemon's pid and `advice` (what to do instead).
    public func required(_ directory: String, _ advice: String) throws -> DataDirectoryLock {
        switch self {
        case .exclusive(let lock): return lock
        case .served(let pid): throw Fsck.Failure("a gridlite daemon\(pid.map { " (pid \($0))" } ?? "") holds \(directory); \(advice)")
        }
    }
}
