import CSQLite
import Testing
@testable import SQLiteStorage

@Suite struct SQLiteConnectionTests {
    private func withConnection(_ body: (SQLiteConnection) throws -> Void) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let connection = try SQLiteConnection(path: dir.path("t.sqlite"))
        try connection.exec("PRAGMA journal_mode = WAL")
        try body(connection)
        connection.close()
    }

    @Test func openAndClose() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let connection = try SQLiteConnection(path: dir.path("a.sqlite"))
        #expect(connection.isOpen)
        try connection.exec("CREATE TABLE t(x)")
        connection.close()
        #expect(!connection.isOpen)
        #expect(throws: SQLiteError.self) { try connection.exec("SELECT 1") }
        // Reopen read-only and see the table.
        let reader = try SQLiteConnection(path: dir.path("a.sqlite"), flags: .readerDefault)
        #expect(try reader.query("SELECT count(*) FROM sqlite_schema") == [[.integer(1)]])
        #expect(throws: SQLiteError.self) { try reader.exec("INSERT INTO t VALUES (1)") }
    }

    @Test func openMissingReadOnlyFails() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let error = #expect(throws: SQLiteError.self) {
            _ = try SQLiteConnection(path: dir.path("missing.sqlite"), flags: .readerDefault)
        }
        #expect(error?.primaryCode == SQLITE_CANTOPEN)
    }

    @Test func statementCacheReusesStatements() throws {
        try withConnection { db in
            try db.exec("CREATE TABLE t(x INTEGER)")
            var ids: Set<ObjectIdentifier> = []
            for i in 0..<10 {
                try db.withStatement("INSERT INTO t VALUES (?)") { stmt throws in
                    ids.insert(ObjectIdentifier(stmt))
                    try stmt.bind(Int64(i), at: 1)
                    try stmt.run()
                }
            }
            #expect(ids.count == 1)
            #expect(db.cachedStatementCount == 1)
            #expect(try db.query("SELECT count(*), sum(x) FROM t") == [[.integer(10), .integer(45)]])
            // A statement comes back from the cache reset, with its bindings cleared.
            try db.withStatement("SELECT ?") { stmt throws in
                try stmt.bind(5, at: 1)
                #expect(try stmt.step() && stmt.int64(0) == 5)
            }
            try db.withStatement("SELECT ?") { stmt throws in
                #expect(try stmt.step() && stmt.isNull(0))
            }
            // Nested use of the same SQL gets a second statement.
            try db.withStatement("SELECT x FROM t ORDER BY x") { outer throws in
                try db.withStatement("SELECT x FROM t ORDER BY x") { inner throws in
                    #expect(outer !== inner)
                    #expect(try outer.step() && inner.step())
                }
            }
            #expect(db.cachedStatementCount == 4)  // INSERT, the count query, SELECT ?, SELECT x
        }
    }

    @Test func bindAndReadEveryType() throws {
        try withConnection { db in
            try db.exec("CREATE TABLE t(i, d, s, b, n, e)")
            let large = (0..<(16 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            try db.withStatement("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)") { stmt throws in
                try stmt.bind(Int64.min, at: 1)
                try stmt.bind(-0.5, at: 2)
                try stmt.bind("héllo\u{0}wörld", at: 3)
                try stmt.bind(large, at: 4)
                try stmt.bindNull(at: 5)
                try stmt.bind([UInt8](), at: 6)
                try stmt.run()
            }
            try db.withStatement("SELECT i, d, s, b, n, e FROM t") { stmt throws in
                #expect(try stmt.step())
                #expect(stmt.columnType(0) == .integer && stmt.int64(0) == Int64.min)
                #expect(stmt.columnType(1) == .real && stmt.double(1) == -0.5)
                #expect(stmt.columnType(2) == .text && stmt.text(2) == "héllo\u{0}wörld")
                #expect(stmt.columnType(3) == .blob && stmt.byteCount(3) == large.count)
                #expect(stmt.blob(3) == large)
                stmt.withBlob(3) { raw in
                    #expect(raw.count == large.count && raw[12345] == large[12345])
                }
                #expect(stmt.isNull(4) && stmt.text(4) == nil && stmt.blob(4) == [])
                #expect(stmt.columnType(5) == .blob && stmt.blob(5) == [])
                #expect(stmt.columnName(2) == "s")
                #expect(try !stmt.step())
            }
        }
    }

    @Test func bindNoCopyAndValues() throws {
        try withConnection { db in
            try db.exec("CREATE TABLE t(k TEXT PRIMARY KEY, v BLOB)")
            let payload: [UInt8] = Array(repeating: 7, count: 300_000)
            try payload.withUnsafeBytes { raw in
                try db.withStatement("INSERT INTO t VALUES (:k, :v)") { stmt throws in
                    let k = try #require(stmt.parameterIndex(":k"))
                    let v = try #require(stmt.parameterIndex(":v"))
                    try stmt.bind("a", at: k)
                    try stmt.bindNoCopy(raw, at: v)
                    try stmt.run()
                }
            }
            try db.execute("INSERT INTO t VALUES (?, ?)", [.text("b"), .blob([1, 2, 3])])
            #expect(try db.query("SELECT length(v) FROM t ORDER BY k") == [[.integer(300_000)], [.integer(3)]])
            #expect(try db.query("SELECT v FROM t WHERE k = 'b'") == [[.blob([1, 2, 3])]])
        }
    }

    @Test func transactionsCommitAndRollback() throws {
        struct Boom: Error {}
        try withConnection { db in
            try db.exec("CREATE TABLE t(x)")
            try db.transaction { try db.execute("INSERT INTO t VALUES (1)") }
            #expect(throws: Boom.self) {
                try db.transaction {
                    try db.execute("INSERT INTO t VALUES (2)")
                    throw Boom()
                }
            }
            #expect(db.isAutocommit)
            // A nested transaction is a savepoint: rolling it back keeps the outer work.
            try db.transaction {
                try db.execute("INSERT INTO t VALUES (3)")
                try? db.transaction {
                    try db.execute("INSERT INTO t VALUES (4)")
                    throw Boom()
                }
            }
            #expect(try db.query("SELECT x FROM t ORDER BY x") == [[.integer(1)], [.integer(3)]])
        }
    }

    @Test func errorsCarryExtendedCodes() throws {
        try withConnection { db in
            try db.exec("CREATE TABLE t(x UNIQUE)")
            try db.execute("INSERT INTO t VALUES (1)")
            let dup = #expect(throws: SQLiteError.self) { try db.execute("INSERT INTO t VALUES (1)") }
            #expect(dup?.code == 2067)  // SQLITE_CONSTRAINT_UNIQUE
            #expect(dup?.isUniqueViolation == true && dup?.isConstraint == true)
            #expect(dup?.message.contains("UNIQUE") == true)
            let syntax = #expect(throws: SQLiteError.self) { _ = try db.prepare("SELEC 1") }
            #expect(syntax?.code == SQLITE_ERROR && syntax?.sql == "SELEC 1")
            let exec = #expect(throws: SQLiteError.self) { try db.exec("DROP TABLE nope") }
            #expect(exec?.code == SQLITE_ERROR && exec?.message.contains("nope") == true)
        }
    }

    @Test func incrementalBlobIO() throws {
        try withConnection { db in
            try db.exec("CREATE TABLE t(b BLOB)")
            try db.withStatement("INSERT INTO t VALUES (?)") { stmt throws in
                try stmt.bindZeroBlob(count: 8, at: 1)
                try stmt.run()
            }
            let rowid = db.lastInsertRowID
            let blob = try db.openBlob(table: "t", column: "b", rowid: rowid, writable: true)
            try [UInt8]([1, 2, 3]).withUnsafeBytes { try blob.write($0, at: 5) }
            #expect(blob.count == 8)
            #expect(try blob.readAll() == [0, 0, 0, 0, 0, 1, 2, 3])
            blob.close()
            let missing = #expect(throws: SQLiteError.self) { _ = try db.openBlob(table: "t", column: "b", rowid: 99) }
            #expect(missing?.primaryCode == SQLITE_ERROR)
        }
    }
}
