#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Synchronization

/// A task executor backed by a pool of plain OS threads on which it is fine to block (e.g. in SQLite).
///
/// Why: Swift's cooperative pool has one thread per core and must never block, so a storage call made
/// from a task on it has to hop to another thread (a dispatch queue) and back, which costs two thread
/// switches per call. With SE-0417 task executor preference, a task started with
/// `withTaskExecutorPreference(executor) { … }` runs its nonisolated async code, its child tasks and the
/// default actors it calls on this executor's threads instead; code there may then block on a
/// synchronous call (see ``isCurrentThreadWorker``) without starving the cooperative pool.
///
/// Jobs are kept in one FIFO. A thread is started when a job arrives and no thread is idle, up to
/// ``maximumThreadCount``; threads then stay (parked on their own semaphore) until ``shutdown()``.
/// When every thread is busy, jobs wait in the queue.
public final class BlockingExecutor: TaskExecutor, Sendable {
    /// The most threads this executor starts.
    public let maximumThreadCount: Int

    /// What the threads share: the job queue, the parked threads and the counts.
    private struct State {
        var jobs: [UnownedJob] = []
        var head = 0
        /// Parked threads, most recently parked last (woken first: its stack is still warm).
        var idle: [DispatchSemaphore] = []
        var threadCount = 0
        var isShutdown = false

        mutating func popJob() -> UnownedJob? {
            guard head < jobs.count else { return nil }
            let job = jobs[head]
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 1024 && head * 2 >= jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            return job
        }
    }

    private let state = Mutex(State())

    /// Creates an executor that starts up to `maximumThreadCount` threads, on demand.
    public init(maximumThreadCount: Int = 64) {
        self.maximumThreadCount = max(1, maximumThreadCount)
    }

    /// True when the calling thread is a thread of any `BlockingExecutor`, i.e. blocking it is allowed.
    public static var isCurrentThreadWorker: Bool { pthread_getspecific(workerThreadKey) != nil }

    /// The number of threads started and not yet exited.
    public var threadCount: Int { state.withLock { $0.threadCount } }

    /// Queues `job`; wakes a parked thread, or starts one when none is parked and the cap allows.
    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        enum Action { case none, wake(DispatchSemaphore), spawn }
        let action: Action = state.withLock { state in
            state.jobs.append(unowned)
            if let parked = state.idle.popLast() { return .wake(parked) }
            if state.threadCount < maximumThreadCount {
                state.threadCount += 1
                return .spawn
            }
            return .none
        }
        switch action {
        case .none: break
        case .wake(let semaphore): semaphore.signal()
        case .spawn:
            if !startThread() {
                // The system refused a thread: count it back and run the oldest job on Dispatch instead,
                // so no job is stranded when no thread of ours is running.
                state.withLock { $0.threadCount -= 1 }
                let executor = asUnownedTaskExecutor()
                DispatchQueue.global().async { [self] in
                    state.withLock { $0.popJob() }?.runSynchronously(on: executor)
                }
            }
        }
    }

    /// Lets every thread exit once the queue is empty. Jobs enqueued later still run (on a new thread).
    public func shutdown() {
        let parked = state.withLock { state in
            state.isShutdown = true
            let parked = state.idle
            state.idle.removeAll()
            return parked
        }
        for semaphore in parked { semaphore.signal() }
    }

    /// A thread's life: run jobs while there are any, park when there are none, exit after shutdown.
    fileprivate func workerLoop() {
        let wakeUp = DispatchSemaphore(value: 0)
        let executor = asUnownedTaskExecutor()
        while true {
            enum Next { case run(UnownedJob), park, exit }
            let next: Next = state.withLock { state in
                if let job = state.popJob() { return .run(job) }
                if state.isShutdown {
                    state.threadCount -= 1
                    return .exit
                }
                state.idle.append(wakeUp)
                return .park
            }
            switch next {
            case .run(let job): job.runSynchronously(on: executor)
            case .park: wakeUp.wait()
            case .exit: return
            }
        }
    }

    /// Starts one detached thread running ``workerLoop()``; false when the system refused.
    private func startThread() -> Bool {
        let context = Unmanaged.passRetained(ThreadContext(executor: self)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        pthread_attr_setstacksize(&attributes, 8 << 20)
        #if canImport(Darwin)
        var thread: pthread_t?
        #else
        var thread = pthread_t()
        #endif
        let result = pthread_create(&thread, &attributes, blockingExecutorThreadMain, context)
        if result != 0 {
            Unmanaged<ThreadContext>.fromOpaque(context).release()
            return false
        }
        return true
    }
}

/// What a new thread needs: its executor (kept alive by the thread while it runs).
private final class ThreadContext {
    let executor: BlockingExecutor
    init(executor: BlockingExecutor) { self.executor = executor }
}

/// The thread-specific key whose value is non-nil on `BlockingExecutor` threads.
private let workerThreadKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()

#if canImport(Darwin)
private func blockingExecutorThreadMain(_ raw: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
    runBlockingExecutorThread(raw)
}
#else
private func blockingExecutorThreadMain(_ raw: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let raw else { return nil }
    return runBlockingExecutorThread(raw)
}
#endif

/// Marks the thread as a worker and runs the executor's loop.
private func runBlockingExecutorThread(_ raw: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
    let executor = Unmanaged<ThreadContext>.fromOpaque(raw).takeRetainedValue().executor
    pthread_setspecific(workerThreadKey, UnsafeRawPointer(bitPattern: 1))
    executor.workerLoop()
    return nil
}
