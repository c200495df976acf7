import CSQLite

/// The destructor arguments of `sqlite3_bind_blob`/`_text`.
enum SQLiteDestructor {
    /// SQLite copies the bytes before the bind call returns.
    static var transient: sqlite3_destructor_type { unsafeBitCast(-1, to: sqlite3_destructor_type.self) }
    /// SQLite uses the caller's bytes in place; they must outlive the binding.
    static var `static`: sqlite3_destructor_type? { nil }
}

/// A prepared statement. Confined to the thread that uses its connection; not `Sendable`.
///
/// Parameter and column indexes follow SQLite: parameters start at 1, columns at 0.
/// Statements from ``SQLiteConnection/withStatement(_:_:)`` are reset and cleared when the closure returns.
public final class SQLiteStatement {
    /// The `sqlite3_stmt` handle.
    let handle: OpaquePointer
    /// The SQL text this statement was prepared from.
    public let sql: String

    init(handle: OpaquePointer, sql: String) {
        self.handle = handle
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    private func check(_ rc: Int32) throws(SQLiteError) {
        guard rc == SQLITE_OK else { throw SQLiteError(db: sqlite3_db_handle(handle), code: rc, sql: sql) }
    }

    // MARK: Binding

    /// The number of parameters (`?`, `?NNN`, `:name`…) in the statement.
    public var parameterCount: Int32 { sqlite3_bind_parameter_count(handle) }

    /// The index of a named parameter such as `:files_id`, or nil.
    public func parameterIndex(_ name: String) -> Int32? {
        let index = sqlite3_bind_parameter_index(handle, name)
        return index == 0 ? nil : index
    }

    /// Binds a 64-bit integer.
    public func bind(_ value: Int64, at index: Int32) throws(SQLiteError) {
        try check(sqlite3_bind_int64(handle, index, value))
    }

    /// Binds an integer.
    public func bind(_ value: Int, at index: Int32) throws(SQLiteError) {
        try check(sqlite3_bind_int64(handle, index, Int64(value)))
    }

    /// Binds a double.
    public func bind(_ value: Double, at index: Int32) throws(SQLiteError) {
        try check(sqlite3_bind_double(handle, index, value))
    }

    /// Binds UTF-8 text; SQLite copies it (`SQLITE_TRANSIENT`), since a Swift string's bytes are only
    /// borrowed for the duration of the call.
    public func bind(_ value: String, at index: Int32) throws(SQLiteError) {
        var text = value
        let rc = text.withUTF8 { utf8 -> Int32 in
            guard let base = utf8.baseAddress, utf8.count > 0 else {
                return sqlite3_bind_text(handle, index, "", 0, SQLiteDestructor.transient)
            }
            return base.withMemoryRebound(to: CChar.self, capacity: utf8.count) {
                sqlite3_bind_text(handle, index, $0, Int32(utf8.count), SQLiteDestructor.transient)
            }
        }
        try check(rc)
    }

    /// Binds a blob from an array; SQLite copies it once (`SQLITE_TRANSIENT`), because the array's storage
    /// is only guaranteed during `withUnsafeBytes`. An empty array binds an empty blob, not NULL.
    public func bind(_ bytes: [UInt8], at index: Int32) throws(SQLiteError) {
        let rc = bytes.withUnsafeBytes { raw in
            bindRaw(raw, at: index, destructor: SQLiteDestructor.transient)
        }
        try check(rc)
    }

    /// Binds a blob without copying (`SQLITE_STATIC`): SQLite reads `buffer` in place when the statement steps.
    ///
    /// The memory must stay valid and unchanged until the statement is reset, rebound or finalized —
    /// typically: bind and step inside the same `withUnsafeBytes` closure. Statements from
    /// ``SQLiteConnection/withStatement(_:_:)`` clear their bindings when the closure returns.
    public func bindNoCopy(_ buffer: UnsafeRawBufferPointer, at index: Int32) throws(SQLiteError) {
        try check(bindRaw(buffer, at: index, destructor: SQLiteDestructor.static))
    }

    private func bindRaw(_ raw: UnsafeRawBufferPointer, at index: Int32, destructor: sqlite3_destructor_type?) -> Int32 {
        // A NULL pointer would bind SQL NULL; an empty blob must stay an empty blob.
        guard let base = raw.baseAddress, raw.count > 0 else { return sqlite3_bind_zeroblob(handle, index, 0) }
        return sqlite3_bind_blob(handle, index, base, Int32(raw.count), destructor)
    }

    /// Binds a blob of `count` zero bytes, to be filled later with ``SQLiteBlob``.
    public func bindZeroBlob(count: Int, at index: Int32) throws(SQLiteError) {
        try check(sqlite3_bind_zeroblob64(handle, index, sqlite3_uint64(count)))
    }

    /// Binds NULL.
    public func bindNull(at index: Int32) throws(SQLiteError) {
        try check(sqlite3_bind_null(handle, index))
    }

    /// Binds any ``SQLiteValue`` (text and blobs are copied).
    public func bind(_ value: SQLiteValue, at index: Int32) throws(SQLiteError) {
        switch value {
        case .null: try bindNull(at: index)
        case .integer(let v): try bind(v, at: index)
        case .real(let v): try bind(v, at: index)
        case .text(let v): try bind(v, at: index)
        case .blob(let v): try bind(v, at: index)
        }
    }

    /// Binds `values` to parameters 1, 2, …
    public func bind(_ values: [SQLiteValue]) throws(SQLiteError) {
        for (offset, value) in values.enumerated() { try bind(value, at: Int32(offset + 1)) }
    }

    /// Sets every parameter back to NULL.
    public func clearBindings() { sqlite3_clear_bindings(handle) }

    // MARK: Stepping

    /// Advances to the next row: true when a row is available, false when the statement is done.
    @discardableResult
    public func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw SQLiteError(db: sqlite3_db_handle(handle), code: rc, sql: sql)
        }
    }

    /// Steps until done, ignoring rows (for INSERT/UPDATE/DELETE), then resets, keeping bindings.
    public func run() throws(SQLiteError) {
        defer { sqlite3_reset(handle) }
        while try step() {}
    }

    /// Resets the statement to run again; bindings are kept.
    public func reset() { sqlite3_reset(handle) }

    // MARK: Columns

    /// The number of result columns.
    public var columnCount: Int32 { sqlite3_column_count(handle) }

    /// The name of result column `index`.
    public func columnName(_ index: Int32) -> String {
        sqlite3_column_name(handle, index).map { String(cString: $0) } ?? ""
    }

    /// The storage class of column `index` in the current row.
    public func columnType(_ index: Int32) -> SQLiteColumnType {
        SQLiteColumnType(rawValue: sqlite3_column_type(handle, index)) ?? .null
    }

    /// True when column `index` is NULL.
    public func isNull(_ index: Int32) -> Bool { sqlite3_column_type(handle, index) == SQLITE_NULL }

    /// Column `index` as a 64-bit integer (NULL reads as 0).
    public func int64(_ index: Int32) -> Int64 { sqlite3_column_int64(handle, index) }

    /// Column `index` as a double (NULL reads as 0).
    public func double(_ index: Int32) -> Double { sqlite3_column_double(handle, index) }

    /// Column `index` as text, or nil for NULL.
    public func text(_ index: Int32) -> String? {
        guard let p = sqlite3_column_text(handle, index) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, index))
        return String(decoding: UnsafeBufferPointer(start: p, count: count), as: UTF8.self)
    }

    /// Column `index` copied into a new array (NULL and empty blobs read as `[]`).
    public func blob(_ index: Int32) -> [UInt8] {
        withBlob(index) { raw in Array(raw.bindMemory(to: UInt8.self)) }
    }

    /// Calls `body` with column `index`'s bytes in place (zero-copy). The buffer is valid only inside
    /// `body`; it is empty for NULL. Do not step, reset or read the column as another type inside `body`.
    public func withBlob<T, E: Error>(_ index: Int32, _ body: (UnsafeRawBufferPointer) throws(E) -> T) throws(E) -> T {
        // Order matters: column_blob first, then column_bytes (see sqlite3_column_blob docs).
        let pointer = sqlite3_column_blob(handle, index)
        let count = Int(sqlite3_column_bytes(handle, index))
        return try body(UnsafeRawBufferPointer(start: pointer, count: pointer == nil ? 0 : count))
    }

    /// The byte length of column `index` (text or blob).
    public func byteCount(_ index: Int32) -> Int { Int(sqlite3_column_bytes(handle, index)) }

    /// Column `index` as an ``SQLiteValue``.
    public func value(_ index: Int32) -> SQLiteValue {
        switch columnType(index) {
        case .null: return .null
        case .integer: return .integer(int64(index))
        case .real: return .real(double(index))
        case .text: return .text(text(index) ?? "")
        case .blob: return .blob(blob(index))
        }
    }
}
