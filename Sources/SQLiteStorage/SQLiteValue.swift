/// One SQLite value, for convenience binding and reading (the typed `bind`/column calls avoid it).
public enum SQLiteValue: Sendable, Hashable {
    /// `NULL`.
    case null
    /// A 64-bit integer.
    case integer(Int64)
    /// A double.
    case real(Double)
    /// UTF-8 text.
    case text(String)
    /// A blob (empty blobs stay blobs, not NULL).
    case blob([UInt8])
}

/// The storage class of a column value in the current row (`sqlite3_column_type`).
public enum SQLiteColumnType: Int32, Sendable {
    /// `SQLITE_INTEGER`.
    case integer = 1
    /// `SQLITE_FLOAT`.
    case real = 2
    /// `SQLITE_TEXT`.
    case text = 3
    /// `SQLITE_BLOB`.
    case blob = 4
    /// `SQLITE_NULL`.
    case null = 5
}
