import Foundation
import Testing
@testable import SQLiteStorage

@Suite struct SQLiteDatabaseTests {
    private func withDatabase(readers: Int = 4, _ body: (SQLiteDatabase) async throws -> Void) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var configuration = SQLiteConfiguration(path: dir.path("db.sqlite"))
        configuration.readerCount = readers
        let db = try await SQLiteDatabase(configuration: configuration)
        try await db.writeTransaction { try $0.exec("CREATE TABLE t(task INTEGER, i INTEGER, UNIQUE(task, i))") }
        try await body(db)
        await db.close()
    }

    @Test func pragmasAreApplied() async throws {
        try await withDatabase { db in
            let writer = try await db.write { c in
                try [c.pragma("journal_mode"), c.pragma("synchronous"), c.pragma("page_size"), c.pragma("temp_store")]
            }
            #expect(writer == [.text("wal"), .integer(1), .integer(4096), .integer(2)])
            let reader = try await db.read { c in try [c.pragma("journal_mode"), c.pragma("mmap_size")] }
            #expect(reader == [.text("wal"), .integer(0)])
        }
    }

    @Test func concurrentWritesAreSerialisedWithoutBusy() async throws {
        try await withDatabase { db in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<64 {
                    group.addTask {
                        for i in 0..<20 {
                            try await db.writeTransaction { c in
                                try c.execute("INSERT INTO t VALUES (?, ?)", [.integer(Int64(task)), .integer(Int64(i))])
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let count = try await db.read { try $0.query("SELECT count(*) FROM t") }
            #expect(count == [[.integer(64 * 20)]])
        }
    }

    @Test func readersSeeCommittedDataOnly() async throws {
        try await withDatabase { db in
            try await db.writeTransaction { try $0.execute("INSERT INTO t VALUES (1, 1)") }
            #expect(try await db.read { try $0.query("SELECT count(*) FROM t") } == [[.integer(1)]])
            // Uncommitted rows inside a running write are invisible to readers.
            let started = AsyncStream.makeStream(of: Void.self)
            let release = DispatchSemaphore(value: 0)
            let writing = Task {
                try await db.writeTransaction { c in
                    try c.execute("INSERT INTO t VALUES (2, 2)")
                    started.continuation.yield()
                    release.wait()
                }
            }
            for await _ in started.stream { break }
            #expect(try await db.read { try $0.query("SELECT count(*) FROM t") } == [[.integer(1)]])
            release.signal()
            try await writing.value
            #expect(try await db.read { try $0.query("SELECT count(*) FROM t") } == [[.integer(2)]])
        }
    }

    @Test func readIsNotBlockedByLongWriteTransaction() async throws {
        try await withDatabase { db in
            try await db.writeTransaction { try $0.execute("INSERT INTO t VALUES (0, 0)") }
            let started = AsyncStream.makeStream(of: Void.self)
            let readDone = DispatchSemaphore(value: 0)
            // The write transaction stays open until the read has finished (or 30 s passed): if reads
            // waited for the writer, the read could only finish after the timeout, and the writer
            // would report that it was never released.
            let writing = Task {
                try await db.writeTransaction { c -> Bool in
                    try c.execute("INSERT INTO t VALUES (1, 1)")
                    started.continuation.yield()
                    return readDone.wait(timeout: .now() + 30) == .success
                }
            }
            for await _ in started.stream { break }
            let rows = try await db.read { try $0.query("SELECT count(*) FROM t") }
            readDone.signal()
            #expect(rows == [[.integer(1)]])
            #expect(try await writing.value, "the read waited for the write transaction")
        }
    }

    @Test func manyConcurrentReadsShareThePool() async throws {
        try await withDatabase(readers: 2) { db in
            try await db.writeTransaction { c in
                for i in 0..<100 { try c.execute("INSERT INTO t VALUES (0, ?)", [.integer(Int64(i))]) }
            }
            let sums = try await withThrowingTaskGroup(of: Int64.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        try await db.read { c in
                            try c.withStatement("SELECT sum(i) FROM t") { s in try s.step() ? s.int64(0) : -1 }
                        }
                    }
                }
                return try await group.reduce(into: [Int64]()) { $0.append($1) }
            }
            #expect(sums.count == 50 && sums.allSatisfy { $0 == 4950 })
            #expect(db.idleReaderCount == 2)
        }
    }

    @Test func errorsPropagateAndWriterRecovers() async throws {
        try await withDatabase { db in
            try await db.writeTransaction { try $0.execute("INSERT INTO t VALUES (1, 1)") }
            let error = await #expect(throws: SQLiteError.self) {
                try await db.writeTransaction { c in
                    try c.execute("INSERT INTO t VALUES (5, 5)")
                    try c.execute("INSERT INTO t VALUES (1, 1)")
                }
            }
            #expect(error?.isUniqueViolation == true)
            #expect(try await db.write { $0.isAutocommit })
            #expect(try await db.read { try $0.query("SELECT count(*) FROM t") } == [[.integer(1)]])
            // Readers are read-only.
            await #expect(throws: SQLiteError.self) { try await db.read { try $0.execute("DELETE FROM t") } }
        }
    }

    @Test func closedDatabaseThrows() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try await SQLiteDatabase(path: dir.path("c.sqlite"))
        try await db.checkpoint(.truncate)
        await db.close()
        let error = await #expect(throws: SQLiteError.self) { try await db.write { _ in 1 } }
        #expect(error?.code == 21)  // SQLITE_MISUSE
        await #expect(throws: SQLiteError.self) { try await db.read { _ in 1 } }
    }
}
