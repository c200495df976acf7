import Foundation
import Logging

/// The upgrade to schema version 3: computes the checksum of every row written before checksums
/// existed (`crc IS NULL`), in batches of one write transaction each, logging progress. Runs on
/// the writer at open, after the segment files are loaded; resumable (rows already done keep
/// their checksum). A row whose payload cannot be read keeps a NULL checksum and is logged;
/// `gridlite fsck` reports it.
enum ChecksumBackfill {
    /// Rows per transaction.
    static let batch = 512

    /// Fills in missing checksums in `tables`; returns how many rows got one.
    @discardableResult
    static func run(_ c: SQLiteConnection, tables: [String], blobs: BlobStore, logger: Logger) throws -> Int {
        var pending = 0
        for table in tables {
            pending += try c.withStatement("SELECT count(*) FROM \(table) WHERE crc IS NULL") { s in try s.step() ? Int(s.int64(0)) : 0 }
        }
        guard pending > 0 else { return 0 }
        logger.info("upgrading the data directory to schema version \(CatalogSQL.schemaVersion): computing checksums of \(pending) stored documents")
        let started = ContinuousClock.now
        var lastLog = started
        var done = 0
        var failed = 0
        for table in tables {
            var after: Int64 = 0
            while true {
                var rows: [(Int64, UInt32?)] = []
                try c.withStatement("SELECT rid, \(StoredDocument.columns) FROM \(table) WHERE crc IS NULL AND rid > ? ORDER BY rid LIMIT \(batch)") { s in
                    try s.bind(after, at: 1)
                    while try s.step() {
                        let rid = s.int64(0)
                        after = rid
                        let bytes = try? StoredDocument.readBytes(s, at: 1, blobs: blobs)
                        rows.append((rid, bytes.flatMap { $0 }.map { PayloadChecksum.compute($0) }))
                    }
                }
                if rows.isEmpty { break }
                try c.transaction(.immediate) {
                    try c.withStatement("UPDATE \(table) SET crc = ? WHERE rid = ?") { s in
                        for (rid, crc) in rows {
                            guard let crc else {
                                failed += 1
                                logger.error("schema upgrade: row \(rid) of \(table) cannot be read; it keeps no checksum (run gridlite fsck)")
                                continue
                            }
                            try s.bind(Int64(crc), at: 1)
                            try s.bind(rid, at: 2)
                            try s.run()
                        }
                    }
                }
                done += rows.count
                if ContinuousClock.now - lastLog > .seconds(2) {
                    lastLog = .now
                    logger.info("schema upgrade: \(done) of \(pending) checksums computed")
                }
            }
        }
        logger.info("schema upgrade finished: \(done - failed) checksums computed in \(ContinuousClock.now - started), \(failed) rows unreadable")
        return done - failed
    }
}
