import Executors
import Foundation
import Storage
import Synchronization
import Testing
@testable import SQLiteStorage

/// SQLiteDatabase called from `BlockingExecutor` threads (bodies run inline) and from the cooperative
/// pool (bodies run on the connections' queues), separately and mixed.
@Suite struct SQLiteDatabaseExecutorTests {
    private func withDatabase(
        readers: Int = 4, threads: Int = 64, _ body: (SQLiteDatabase, BlockingExecutor) async throws -> Void
    ) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var configuration = SQLiteConfiguration(path: dir.path("db.sqlite"))
        configuration.readerCount = readers
        let db = try await SQLiteDatabase(configuration: configuration)
        let executor = BlockingExecutor(maximumThreadCount: threads)
        try await db.writeTransaction { try $0.exec("CREATE TABLE t(task INTEGER, i INTEGER, UNIQUE(task, i))") }
        try await body(db, executor)
        await db.close()
        executor.shutdown()
    }

    /// Counts bodies running at once on the writer, and where bodies ran.
    private final class Probe: Sendable {
        private let state = Mutex((running: 0, peak: 0, inline: 0, queued: 0))
        func enter() {
            let inline = BlockingExecutor.isCurrentThreadWorker
            state.withLock {
                $0.running += 1
                $0.peak = max($0.peak, $0.running)
                if inline { $0.inline += 1 } else { $0.queued += 1 }
            }
        }
        func leave() { state.withLock { $0.running -= 1 } }
        var peak: Int { state.withLock { $0.peak } }
        var inline: Int { state.withLock { $0.inline } }
        var queued: Int { state.withLock { $0.queued } }
    }

    @Test func concurrentWritesUnderThePreferenceStaySerializedAndAllCommit() async throws {
        try await withDatabase { db, executor in
            let probe = Probe()
            try await withTaskExecutorPreference(executor) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for task in 0..<32 {
                        group.addTask {
                            for i in 0..<20 {
                                try await db.writeTransaction { c in
                                    probe.enter()
                                    defer { probe.leave() }
                                    try c.execute("INSERT INTO t VALUES (?, ?)", [.integer(Int64(task)), .integer(Int64(i))])
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            #expect(probe.peak == 1)
            #expect(probe.inline == 32 * 20 && probe.queued == 0)
            #expect(try await db.read { try $0.query("SELECT count(*) FROM t") } == [[.integer(32 * 20)]])
        }
    }

    @Test func readsUnderThePreferenceRunWhileALongWriteHoldsTheWriter() async throws {
        // Two threads: one blocked inside the long write, the other must serve the reads even though
        // more writers are queued behind the first (they suspend; they do not take a thread).
        try await withDatabase(threads: 2) { db, executor in
            try await db.writeTransaction { try $0.execute("INSERT INTO t VALUES (0, 0)") }
            let started = AsyncStream.makeStream(of: Void.self)
            try await withTaskExecutorPreference(executor) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    let readsDone = DispatchSemaphore(value: 0)
                    let released = Flag()
                    group.addTask {
                        // Holds the write transaction until the reads below are done (or 30 s).
                        let ok = try await db.writeTransaction { c -> Bool in
                            try c.execute("INSERT INTO t VALUES (1, 1)")
                            started.continuation.yield()
                            return readsDone.wait(timeout: .now() + 30) == .success
                        }
                        released.value.withLock { $0 = ok }
                    }
                    for await _ in started.stream { break }
                    for i in 0..<5 {
                        group.addTask {
                            _ = try await db.writeTransaction { c in try c.execute("INSERT INTO t VALUES (2, ?)", [.integer(Int64(i))]) }
                        }
                    }
                    for _ in 0..<20 {
                        let rows = try await db.read { c in
                            #expect(BlockingExecutor.isCurrentThreadWorker)
                            return try c.query("SELECT count(*) FROM t")
                        }
                        #expect(rows == [[.integer(1)]])
                    }
                    readsDone.signal()
                    try await group.waitForAll()
                    #expect(released.value.withLock { $0 }, "the reads waited for the write transaction")
                }
            }
            #expect(try await db.read { try $0.query("SELECT count(*) FROM t") } == [[.integer(7)]])
        }
    }

    @Test func mixedCallersOnOneDatabaseGetCorrectResults() async throws {
        try await withDatabase(readers: 3) { db, executor in
            let probe = Probe()
            // Each task inserts its rows one write at a time and, after each, reads its own count back.
            @Sendable func work(task: Int) async throws {
                for i in 0..<25 {
                    try await db.writeTransaction { c in
                        probe.enter()
                        defer { probe.leave() }
                        try c.execute("INSERT INTO t VALUES (?, ?)", [.integer(Int64(task)), .integer(Int64(i))])
                    }
                    let seen = try await db.read { c in
                        try c.query("SELECT count(*) FROM t WHERE task = ?", [.integer(Int64(task))])
                    }
                    #expect(seen == [[.integer(Int64(i + 1))]])
                }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<12 {
                    if task.isMultiple(of: 2) {
                        group.addTask(executorPreference: executor) { try await work(task: task) }
                    } else {
                        group.addTask { try await work(task: task) }
                    }
                }
                try await group.waitForAll()
            }
            #expect(probe.peak == 1)
            #expect(probe.inline == 6 * 25 && probe.queued == 6 * 25)
            #expect(try await db.read { try $0.query("SELECT count(*) FROM t") } == [[.integer(12 * 25)]])
            #expect(db.idleReaderCount == 3)
            // A checkpoint and close after mixed use still work.
            _ = try await withTaskExecutorPreference(executor) { try await db.checkpoint(.passive) }
        }
    }

    @Test func closeWaitsForQueuedInlineWrites() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try await SQLiteDatabase(path: dir.path("c.sqlite"))
        let executor = BlockingExecutor(maximumThreadCount: 4)
        defer { executor.shutdown() }
        try await db.write { try $0.exec("CREATE TABLE t(x)") }
        let started = AsyncStream.makeStream(of: Void.self)
        let writing = Task(executorPreference: executor) {
            try await db.write { c in
                started.continuation.yield()
                usleep(200_000)
                try c.execute("INSERT INTO t VALUES (1)")
            }
        }
        for await _ in started.stream { break }
        await db.close()
        try await writing.value  // finished before the writer closed
        await #expect(throws: SQLiteError.self) {
            try await withTaskExecutorPreference(executor) { try await db.write { _ in 1 } }
        }
    }
}

/// A shared, mutex-guarded Boolean (a `Mutex` alone cannot be captured by task closures).
final class Flag: Sendable {
    let value = Mutex(false)
}
