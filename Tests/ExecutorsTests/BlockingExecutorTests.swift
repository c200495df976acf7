import Foundation
import Executors
import Synchronization
import Testing

@Suite struct BlockingExecutorTests {
    @Test func runsPreferringTasksOnItsThreads() async {
        let executor = BlockingExecutor(maximumThreadCount: 4)
        defer { executor.shutdown() }
        #expect(!BlockingExecutor.isCurrentThreadWorker)
        let inside = await withTaskExecutorPreference(executor) {
            // Across a suspension the task comes back to the executor too.
            let before = BlockingExecutor.isCurrentThreadWorker
            try? await Task.sleep(for: .milliseconds(1))
            return before && BlockingExecutor.isCurrentThreadWorker
        }
        #expect(inside)
        #expect(!BlockingExecutor.isCurrentThreadWorker)
        #expect(executor.threadCount >= 1)
    }

    @Test func childTasksInheritThePreference() async {
        let executor = BlockingExecutor(maximumThreadCount: 4)
        defer { executor.shutdown() }
        let results = await withTaskExecutorPreference(executor) { () async -> [Bool] in
            async let child = { BlockingExecutor.isCurrentThreadWorker }()
            let group = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 { group.addTask { BlockingExecutor.isCurrentThreadWorker } }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            return await [child] + group
        }
        #expect(results.count == 9 && results.allSatisfy { $0 })
    }

    @Test func blockingTasksAllFinishAndThreadsGrow() async {
        let executor = BlockingExecutor(maximumThreadCount: 64)
        defer { executor.shutdown() }
        // 20 tasks that each block their thread until all 20 are blocked at once: that can only end
        // (before the 30 s timeout) if the executor runs them on 20 threads side by side. No timing
        // of the whole is asserted; the machine may be busy.
        let arrived = Locked(0)
        let allThere = DispatchSemaphore(value: 0)
        let results = await withTaskExecutorPreference(executor) {
            await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        let n = arrived.value.withLock { n in
                            n += 1
                            return n
                        }
                        if n == 20 { for _ in 0..<20 { allThere.signal() } }
                        return allThere.wait(timeout: .now() + 30) == .success  // blocks, as SQLite would
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
        }
        #expect(results.count == 20)
        #expect(results.allSatisfy { $0 }, "blocked tasks held the others back")
        #expect(executor.threadCount >= 20)
    }

    @Test func threadCountStaysWithinTheMaximum() async {
        let executor = BlockingExecutor(maximumThreadCount: 2)
        defer { executor.shutdown() }
        let running = Concurrency()
        let finished = await withTaskExecutorPreference(executor) {
            await withTaskGroup(of: Int.self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        running.enter()
                        usleep(10_000)
                        running.leave()
                        return 1
                    }
                }
                return await group.reduce(0, +)
            }
        }
        #expect(finished == 10)
        #expect(executor.threadCount <= 2)
        #expect(running.peak <= 2)
    }

    @Test func actorHopsStayOnOneThread() async {
        let executor = BlockingExecutor(maximumThreadCount: 64)
        defer { executor.shutdown() }
        let counter = HopCounter()
        let (total, allOnWorkers) = await withTaskExecutorPreference(executor) {
            var onWorkers = true
            for _ in 0..<1000 {
                await counter.increment()
                onWorkers = onWorkers && BlockingExecutor.isCurrentThreadWorker
            }
            return (await counter.value, onWorkers)
        }
        #expect(total == 1000 && allOnWorkers)
        // Each hop queues a job from the executor's own thread, which then runs it itself.
        #expect(executor.threadCount <= 2)
    }

    @Test func blockingWakesThreadsForJobsQueuedBeforeAndDuringIt() async {
        let executor = BlockingExecutor(maximumThreadCount: 8)
        defer { executor.shutdown() }
        let ran = await withTaskExecutorPreference(executor) { () async -> [Bool] in
            // Queued before blocking: without blocking(_:) this thread would run it only afterwards.
            let first = DispatchSemaphore(value: 0)
            async let before: Void = { _ = first.signal() }()
            let ranBefore = BlockingExecutor.blocking { first.wait(timeout: .now() + 5) == .success }
            await before
            // Queued while blocking.
            let second = DispatchSemaphore(value: 0)
            let ranDuring = await withTaskGroup(of: Void.self) { group in
                BlockingExecutor.blocking {
                    group.addTask { second.signal() }
                    return second.wait(timeout: .now() + 5) == .success
                }
            }
            return [ranBefore, ranDuring, BlockingExecutor.blocking { true }]
        }
        #expect(ran == [true, true, true])
        #expect(BlockingExecutor.blocking { 7 } == 7)  // off the executor: just runs
    }

    @Test func shutdownLetsIdleThreadsExitAndLaterJobsStillRun() async throws {
        let executor = BlockingExecutor(maximumThreadCount: 4)
        await withTaskExecutorPreference(executor) {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { usleep(5_000) } }
            }
        }
        #expect(executor.threadCount >= 1)
        executor.shutdown()
        var waited = 0
        while executor.threadCount > 0 && waited < 200 {
            try await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        #expect(executor.threadCount == 0)
        let ranThere = await withTaskExecutorPreference(executor) { BlockingExecutor.isCurrentThreadWorker }
        #expect(ranThere)
    }
}

/// How many callers are between `enter()` and `leave()`, and the most there ever were.
private final class Concurrency: Sendable {
    private let state = Mutex((now: 0, peak: 0))
    func enter() { state.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) } }
    func leave() { state.withLock { $0.now -= 1 } }
    var peak: Int { state.withLock { $0.peak } }
}

/// An actor to hop to.
private actor HopCounter {
    private(set) var value = 0
    func increment() { value += 1 }
}

/// A mutex-guarded value that closures can share (a `Mutex` alone cannot be captured).
final class Locked<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ initial: Value) { value = Mutex(initial) }
}

/// `InlineWork`: the permission to run short blocking work off a `BlockingExecutor` thread is the
/// task's, for the scope that grants it.
@Suite struct InlineWorkTests {
    @Test func permissionIsScopedToTheTask() async {
        #expect(!InlineWork.isAllowed)
        #expect(!InlineWork.mayRunOnCurrentThread)
        await InlineWork.$isAllowed.withValue(true) {
            #expect(InlineWork.mayRunOnCurrentThread)
            // Another task on the same threads does not inherit it.
            let other = await Task.detached { InlineWork.mayRunOnCurrentThread }.value
            #expect(!other)
        }
        #expect(!InlineWork.mayRunOnCurrentThread)
    }
}
