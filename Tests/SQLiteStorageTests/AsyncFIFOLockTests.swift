import Foundation
import Synchronization
import Testing
@testable import SQLiteStorage

/// The writer lock's timed wait (an operation's maxTimeMS while another write holds the writer).
@Suite struct AsyncFIFOLockTests {
    @Test func aWaitGivesUpAtItsDeadlineAndTheQueueGoesOn() async throws {
        let lock = AsyncFIFOLock()
        await lock.lock()
        // Held by us and never released meanwhile: a waiter with a 50 ms deadline can only return
        // false (giving up), never true.
        let gaveUp = Task { await lock.lock(until: .now + .milliseconds(50)) }
        // A waiter behind it without a deadline gets the lock once we unlock (the given-up entry is
        // skipped); it records that it ran.
        let acquired = Atomic<Bool>(false)
        let patient = Task {
            await lock.lock()
            acquired.store(true, ordering: .sequentiallyConsistent)
            lock.unlock()
        }
        #expect(await gaveUp.value == false)
        let early = acquired.load(ordering: .sequentiallyConsistent)
        #expect(early == false, "nobody got the lock while we held it")
        lock.unlock()
        await patient.value
        let late = acquired.load(ordering: .sequentiallyConsistent)
        #expect(late)
        // Free again: a timed lock succeeds at once.
        #expect(await lock.lock(until: .now + .seconds(60)) == true)
        lock.unlock()
    }

    @Test func aWriteWaitingPastItsDeadlineThrowsAndRunsNothing() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try await SQLiteDatabase(configuration: SQLiteConfiguration(path: dir.path("db.sqlite")))
        try await db.writeTransaction { try $0.exec("CREATE TABLE t(i INTEGER)") }
        let holding = Atomic<Bool>(false)
        let release = Atomic<Bool>(false)
        // Holds the writer until the test has seen the timed write give up (at most 60 s).
        let holder = Task {
            try await db.write { _ in
                holding.store(true, ordering: .sequentiallyConsistent)
                let limit = Date().addingTimeInterval(60)
                while !release.load(ordering: .sequentiallyConsistent), Date() < limit { Thread.sleep(forTimeInterval: 0.01) }
            }
        }
        while !holding.load(ordering: .sequentiallyConsistent) { try await Task.sleep(for: .milliseconds(5)) }
        await #expect(throws: WriterLockTimeout.self) {
            try await db.write(until: .now + .milliseconds(50)) { c in try c.execute("INSERT INTO t VALUES (1)") }
        }
        release.store(true, ordering: .sequentiallyConsistent)
        try await holder.value
        #expect(try await db.read { try $0.query("SELECT count(*) FROM t") } == [[.integer(0)]])
        await db.close()
    }
}
