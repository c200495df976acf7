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
/// default actors it calls on this executor's threads instead; code there (``isCurrentThreadWorker``
/// is true) may then block in a synchronous call, inside ``blocking(_:)``, without starving the
/// cooperative pool.
///
/// Jobs are kept in one FIFO. A thread is started when a job arrives and no thread is idle, up to
/// ``maximumThreadCount``; threads then stay (parked on their own semaphore) until ``shutdown()``.
/// When every thread is busy, jobs wait in the queue.
///
/// A job queued from one of the executor's own threads (a task hopping to or from an actor, which
/// happens several times per command) does not wake another thread: the queuing thread runs it once
/// its current job ends, which is almost always at once. Code that blocks on such a thread must do so
/// inside ``blocking(_:)``, so those jobs get a thread of their own instead of waiting for it.
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

        /// Takes up to `count` parked threads to wake, then reserves new threads within the cap.
        mutating func takeWakeups(_ count: Int, maximumThreadCount: Int) -> Wakeups {
            var wakeups = Wakeups()
            guard count > 0 else { return wakeups }
            while wakeups.parked.count < count, let parked = idle.popLast() { wakeups.parked.append(parked) }
            let missing = min(count - wakeups.parked.count, maximumThreadCount - threadCount)
            if missing > 0 {
                threadCount += missing
                wakeups.spawn = missing
            }
            return wakeups
        }

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

    /// Threads to wake: parked ones to signal, and how many to start.
    private struct Wakeups {
        var parked: [DispatchSemaphore] = []
        var spawn = 0
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

    /// Queues `job`. From outside the pool it wakes a parked thread, or starts one when none is parked
    /// and the cap allows. From one of this executor's own threads it wakes no one: that thread is
    /// almost always about to finish its job (the job's task is hopping to or from an actor), and it
    /// takes the job itself afterwards, sparing two thread switches. The wake is only deferred: it
    /// happens when that job ends with more work queued, or when it enters ``blocking(_:)``.
    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        if let context = ThreadContext.current, context.executor === self, !context.isBlocking {
            state.withLock { $0.jobs.append(unowned) }
            context.deferredWakes += 1
            return
        }
        let wakeups = state.withLock { state in
            state.jobs.append(unowned)
            return state.takeWakeups(1, maximumThreadCount: maximumThreadCount)
        }
        perform(wakeups)
    }

    /// Runs `body`, which may block for a while (e.g. a SQLite statement), on the calling thread.
    /// On an executor thread it first wakes threads for the jobs this thread queued without waking
    /// anyone (see ``enqueue(_:)``), and jobs queued during `body` wake a thread at once, so no job
    /// waits for `body` to end. Off the executor's threads it just runs `body`.
    public static func blocking<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        guard let context = ThreadContext.current else { return try body() }
        if context.deferredWakes > 0 {
            let count = context.deferredWakes
            context.deferredWakes = 0
            context.executor.wakeForQueuedJobs(upTo: count, keepingOne: false)
        }
        context.isBlocking = true
        defer { context.isBlocking = false }
        return try body()
    }

    /// Wakes up to `count` threads, no more than there are queued jobs (less one when the calling
    /// thread takes one itself).
    private func wakeForQueuedJobs(upTo count: Int, keepingOne: Bool) {
        let wakeups = state.withLock { state in
            let queued = state.jobs.count - state.head - (keepingOne ? 1 : 0)
            return state.takeWakeups(min(count, queued), maximumThreadCount: maximumThreadCount)
        }
        perform(wakeups)
    }

    /// Signals the parked threads and starts the new ones that `wakeups` names.
    private func perform(_ wakeups: Wakeups) {
        for semaphore in wakeups.parked { semaphore.signal() }
        for _ in 0..<wakeups.spawn where !startThread() {
            // The system refused a thread: count it back and run the oldest job on Dispatch instead,
            // so no job is stranded when no thread of ours is running.
            state.withLock { $0.threadCount -= 1 }
            let executor = asUnownedTaskExecutor()
            DispatchQueue.global().async { [self] in
                state.withLock { $0.popJob() }?.runSynchronously(on: executor)
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
    fileprivate func workerLoop(_ context: ThreadContext) {
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
            case .run(let job):
                job.runSynchronously(on: executor)
                // Jobs queued by that job: this thread takes the next one; others wake for the rest.
                if context.deferredWakes > 0 {
                    let count = context.deferredWakes
                    context.deferredWakes = 0
                    if count > 1 { wakeForQueuedJobs(upTo: count - 1, keepingOne: true) }
                }
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

/// A thread's own state: its executor and the wakes it deferred (see `enqueue`). Kept alive by the
/// thread while it runs and reachable through `workerThreadKey`.
///
/// `@unchecked Sendable`: handed to the new thread once; `deferredWakes` is then touched by that
/// thread alone.
private final class ThreadContext: @unchecked Sendable {
    let executor: BlockingExecutor
    /// Jobs this thread queued during its current job without waking a thread for them.
    var deferredWakes = 0
    /// Whether the thread is inside `BlockingExecutor.blocking(_:)` (its jobs then wake threads at once).
    var isBlocking = false
    init(executor: BlockingExecutor) { self.executor = executor }

    /// The calling thread's context; nil off `BlockingExecutor` threads.
    static var current: ThreadContext? {
        guard let raw = pthread_getspecific(workerThreadKey) else { return nil }
        return Unmanaged<ThreadContext>.fromOpaque(raw).takeUnretainedValue()
    }
}

/// The thread-specific key whose value, on `BlockingExecutor` threads, is the thread's `ThreadContext`.
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

/// Marks the thread as a worker (its context in the key) and runs the executor's loop.
private func runBlockingExecutorThread(_ raw: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
    let context = Unmanaged<ThreadContext>.fromOpaque(raw).takeRetainedValue()
    pthread_setspecific(workerThreadKey, raw)
    // Named, so profilers and `top -H` show these threads as ours (they would inherit their
    // creator's name, often an event loop's).
    _ = setThreadName?(pthread_self(), "gridlite-exec")
    context.executor.workerLoop(context)
    pthread_setspecific(workerThreadKey, nil)
    return nil
}

/// glibc's `pthread_setname_np` (a GNU extension the Swift overlay does not import), looked up once.
#if os(Linux)
private let setThreadName: (@convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32)? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pthread_setname_np") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32).self)
}()
#else
private let setThreadName: ((pthread_t, UnsafePointer<CChar>) -> Int32)? = nil
#endif
