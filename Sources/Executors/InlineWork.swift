/// Permission for a task to run *short* blocking work (a SQLite statement of a small read or insert)
/// on whatever thread it is on, even when that thread is not a ``BlockingExecutor`` thread.
///
/// Why: the server answers a request whose storage work is known to be short on the connection's
/// event loop, with no thread hop (docs/performance.md, "No thread hops"). Such a request runs inside
/// `InlineWork.$isAllowed.withValue(true) { … }`; a storage backend that honours it (SQLite) then runs
/// its statements on the calling thread instead of hopping to its own dispatch queue and back. The
/// caller, not the backend, is responsible for bounding the work: it only allows requests whose
/// storage work is bounded (see the server's `InlinePolicy`). Backends whose calls may wait on the
/// network (PostgreSQL) must ignore it and keep checking ``BlockingExecutor/isCurrentThreadWorker``.
///
/// A task-local, not a thread flag: other tasks run on the same event loop between this task's
/// suspensions and must not inherit the permission.
public enum InlineWork {
    /// Whether the current task may run short blocking work on its current thread.
    @TaskLocal public static var isAllowed = false

    /// True where a backend may run a blocking call on the calling thread: a `BlockingExecutor`
    /// thread, or a task allowed short inline work.
    public static var mayRunOnCurrentThread: Bool {
        BlockingExecutor.isCurrentThreadWorker || isAllowed
    }
}
