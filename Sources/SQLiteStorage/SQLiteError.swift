import CSQLite

/// An error reported by SQLite, carrying the extended result code and SQLite's message.
public struct SQLiteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The extended result code (e.g. 2067 = `SQLITE_CONSTRAINT_UNIQUE`); the low byte is the primary code.
    public let code: Int32
    /// SQLite's message (`sqlite3_errmsg`) or a description from this wrapper.
    public let message: String
    /// The SQL text involved, when known.
    public let sql: String?

    /// Creates an error from its parts.
    public init(code: Int32, message: String, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    /// Reads the extended code and message of the last failed call on `db`.
    init(db: OpaquePointer?, code fallback: Int32, sql: String? = nil) {
        if let db {
            let extended = sqlite3_extended_errcode(db)
            self.code = extended != 0 ? extended : fallback
            self.message = String(cString: sqlite3_errmsg(db))
        } else {
            self.code = fallback
            self.message = String(cString: sqlite3_errstr(fallback))
        }
        self.sql = sql
    }

    /// The primary result code (`code & 0xFF`), e.g. `SQLITE_CONSTRAINT` = 19.
    public var primaryCode: Int32 { code & 0xFF }

    /// True for `SQLITE_BUSY` and its extended forms.
    public var isBusy: Bool { primaryCode == SQLITE_BUSY }

    /// True for any constraint violation (`SQLITE_CONSTRAINT_*`).
    public var isConstraint: Bool { primaryCode == SQLITE_CONSTRAINT }

    /// True for a UNIQUE or PRIMARY KEY violation: what MongoDB reports as DuplicateKey.
    public var isUniqueViolation: Bool {
        code == 2067 /* SQLITE_CONSTRAINT_UNIQUE */ || code == 1555 /* SQLITE_CONSTRAINT_PRIMARYKEY */
    }

    /// SQLite's generic English text for the code (`sqlite3_errstr`).
    public var codeDescription: String { String(cString: sqlite3_errstr(code)) }

    /// `SQLiteError(code, message)`, with the SQL when known.
    public var description: String {
        var text = "SQLiteError(\(code): \(message))"
        if let sql { text += " in \"\(sql)\"" }
        return text
    }

    /// The error thrown when a closed connection or database is used.
    static func closed(_ what: String) -> SQLiteError {
        SQLiteError(code: SQLITE_MISUSE, message: "\(what) is closed")
    }
}
