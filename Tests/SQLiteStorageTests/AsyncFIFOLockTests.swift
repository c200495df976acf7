import Foundation
import Synchronization
import Testing
@testable import SQLiteStorage

/// The writer lock's timed wait (an operation's maxTimeMS while another write holds the writer).
@Suite struct AsyncFIFOLockTests {
    @Test func aWaitGivesUpAtItsDeadlineAndTheQueueGoesOn() async throws {
        let lock = AsyncFIFOLock()
        await lock.lock()
        let started = ContinuousClock.now
        // Held by us: a waiter with a 50 ms deadline gives up (long before we unlock at ~1 s).
        let gaveUp = Task { await lock.lock(until: .now + .milliseconds(50)) }
        // A waiter behind it without a deadline gets the lock when we unlock (the expired entry is skipped).
        let patient = Task { () -> ContinuousClock.Instant in
            await lock.lock()
            let at = ContinuousClock.now
            lock.unlock()
            return at
        }
        #expect(await gaveUp.value == false)
        #expect(ContinuousClock.now - started < .milliseconds(900), "the timed wait ended at its deadline")
        try await Task.sleep(for: .seconds(1))
        lock.unlock()
        let acquiredAt = await patient.value
        #expect(acquiredAt - started >= .seconds(1))
        // Free again: a timed lock succeeds at once.
        #expect(await lock.lock(until: .now + .milliseconds(10)) == true)
        lock.unlock()
    }

    @Test func aWriteWaitingPastItsDeadlineThrowsAndRunsNothing() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try await SQLiteDatabase(configuration: SQLiteConfiguration(path: dir.path("db.sqlite")))
        try await db.writeTransaction { try $0.exec("CREATE TABLE t(i INTEGER)") }
        let holding = Atomic<Bool>(false)
        let holder = Task {
            try await db.write { _ in
                holding.store(true, ordering: .sequentiallyConsistent)
                Thread.sleep(forTimeInterval: 1.0)
            }
        }
        while !holding.load(ordering: .sequentiallyConsistent) { try await Task.sleep(for: .milliseconds(5)) }
        await #expect(throws: WriterLockTimeout.self) {
            try await db.write(until: .now + .milliseconds(50)) { c in try c.execute("INSERT INTO t VALUES (1)") }
        }
        try await holder.value
        #expect(try await db.read { try $0.query("SELECT count(*) FROM t") } == [[.integer(0)]])
        await db.close()
    }
}
