import NIOCore

/// A task executor that runs its jobs on one NIO event loop: a connection task that prefers it
/// (SE-0417) reads its frames, runs short requests and writes its replies on the thread that does
/// the socket I/O, so a request costs no thread switch beyond the loop's own wake-up — as the
/// in-memory ceiling answers (docs/performance.md, "No thread hops").
///
/// A job enqueued from the loop itself (a frame arriving for a task waiting on it, an uncontended
/// lock handed over) joins the loop's task queue without waking anything; from another thread (the
/// task returning from the blocking executor) it wakes the loop once.
final class EventLoopTaskExecutor: TaskExecutor, Sendable {
    /// The loop the jobs run on.
    let eventLoop: any EventLoop

    /// An executor for `eventLoop`.
    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Runs `job` on the loop, as a job of this task executor.
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { [self] in
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
