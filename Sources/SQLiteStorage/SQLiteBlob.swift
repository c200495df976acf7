import CSQLite

/// Incremental blob I/O on one row (`sqlite3_blob_*`). Confined like its connection; close it (or let
/// it go) before the connection commits or closes.
public final class SQLiteBlob {
    private var handle: OpaquePointer?
    private let db: OpaquePointer

    init(handle: OpaquePointer, db: OpaquePointer) {
        self.handle = handle
        self.db = db
    }

    deinit { close() }

    /// Closes the blob handle.
    public func close() {
        if let handle { sqlite3_blob_close(handle) }
        handle = nil
    }

    private func blob() throws(SQLiteError) -> OpaquePointer {
        guard let handle else { throw SQLiteError.closed("blob") }
        return handle
    }

    /// The blob's size in bytes (0 once closed).
    public var count: Int { handle.map { Int(sqlite3_blob_bytes($0)) } ?? 0 }

    /// Points this handle at another row of the same table and column (cheaper than reopening).
    public func reopen(rowid: Int64) throws(SQLiteError) {
        let rc = sqlite3_blob_reopen(try blob(), rowid)
        guard rc == SQLITE_OK else { throw SQLiteError(db: db, code: rc) }
    }

    /// Reads `buffer.count` bytes starting at `offset` into `buffer`.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int = 0) throws(SQLiteError) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        let rc = sqlite3_blob_read(try blob(), base, Int32(buffer.count), Int32(offset))
        guard rc == SQLITE_OK else { throw SQLiteError(db: db, code: rc) }
    }

    /// Reads the whole blob into a new array.
    public func readAll() throws(SQLiteError) -> [UInt8] {
        let size = count
        var failure: SQLiteError?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            do { try read(into: UnsafeMutableRawBufferPointer(buffer), at: 0) } catch let error as SQLiteError { failure = error } catch {}
            initialized = failure == nil ? size : 0
        }
        if let failure { throw failure }
        return bytes
    }

    /// Writes `bytes` at `offset` (the blob cannot grow; open it writable).
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int = 0) throws(SQLiteError) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let rc = sqlite3_blob_write(try blob(), base, Int32(bytes.count), Int32(offset))
        guard rc == SQLITE_OK else { throw SQLiteError(db: db, code: rc) }
    }
}
