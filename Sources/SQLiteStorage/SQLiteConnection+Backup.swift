import CSQLite

extension SQLiteConnection {
    /// Copies this connection's `main` database into `destination`'s with SQLite's online backup
    /// API, in one step. Run inside a read transaction on this connection, the copy is exactly that
    /// transaction's snapshot (the step reads through the open transaction; in WAL mode writers of
    /// other connections go on meanwhile).
    public func backup(into destination: SQLiteConnection) throws(SQLiteError) {
        guard let source = handle else { throw SQLiteError.closed("connection") }
        guard let target = destination.handle else { throw SQLiteError.closed("connection") }
        guard let backup = sqlite3_backup_init(target, "main", source, "main") else {
            throw SQLiteError(db: target, code: sqlite3_errcode(target))
        }
        let rc = sqlite3_backup_step(backup, -1)
        let finish = sqlite3_backup_finish(backup)
        guard rc == SQLITE_DONE else { throw SQLiteError(db: target, code: rc) }
        guard finish == SQLITE_OK else { throw SQLiteError(db: target, code: finish) }
    }
}
