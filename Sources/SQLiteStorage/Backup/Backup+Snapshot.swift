import Foundation
import Logging
import Storage

/// What makes a backup one consistent point in time although writers keep going: the active
/// segments are cut where the snapshot's committed bytes end, and chunks of uploads that were in
/// flight (committed chunk rows whose files document was not yet written) are left out.
extension Backup {
    /// For every active (unsealed) segment of the snapshot open on `c`: where its committed bytes
    /// end. Committed appends are either referenced by a row (live) or counted dead, so the end is
    /// live + dead — never less than the last byte a row references. The file itself may already
    /// be longer: a transaction appends before it commits, and commits after the snapshot began
    /// append too; those bytes belong to no row of the snapshot and stay out of the copy.
    static func committedEnds(_ c: SQLiteConnection) throws -> [Int64: Int64] {
        var ends: [Int64: Int64] = [:]
        try c.withStatement("SELECT id, dead FROM gl_segments WHERE sealed_size IS NULL") { s in
            while try s.step() { ends[s.int64(0)] = s.int64(1) }
        }
        guard !ends.isEmpty else { return [:] }
        var lastByte: [Int64: Int64] = [:]
        for entry in try CatalogSQL.load(c).values where entry.kind == .gridFSChunks {
            try c.withStatement("SELECT seg, SUM(len), MAX(off + len) FROM \(entry.table) WHERE seg IS NOT NULL GROUP BY seg") { s in
                while try s.step() {
                    let id = s.int64(0)
                    guard ends[id] != nil else { continue }
                    ends[id, default: 0] += s.int64(1)
                    lastByte[id] = max(lastByte[id] ?? 0, s.int64(2))
                }
            }
        }
        return ends.reduce(into: [:]) { out, item in out[item.key] = max(item.value, lastByte[item.key] ?? 0) }
    }

    /// Verifies the backup copy at `target` with the checks of a plain `gridlite fsck`, after
    /// deleting the chunk rows of uploads that were in flight at the snapshot: orphans (no files
    /// document) whose `files_id` ObjectId is younger than fsck's grace period. Their bytes are
    /// counted dead (a segment left with nothing live goes, as in the daemon). Older orphans stay:
    /// they are damage in the source, and the report lists them. Returns the report and how many
    /// rows went.
    static func verifyExcludingInFlight(_ target: String, logger: Logger) async throws -> (report: FsckReport, excluded: Int) {
        let options = {
            var options = FsckOptions()
            options.youngOrphansAreProblems = false
            return options
        }()
        let engine: SQLiteStorageEngine
        do {
            engine = try await SQLiteStorageEngine.open(directory: target, logger: logger)
        } catch {
            throw Fsck.Failure("cannot open the backup copy \(target): \(error)")
        }
        let found: (FsckReport, [FsckChecker.DoomedRow])
        var deleted = 0
        do {
            found = try await engine.read { c in
                var checker = FsckChecker(c: c, blobs: engine.blobs, segments: try FsckRepair.segments(c, engine.blobs),
                                          entries: engine.catalog.all(), options: options, online: false,
                                          dataDirectory: target)
                try checker.run()
                return (checker.report, checker.orphanRows.filter(\.inFlight))
            }
            let rows = found.1
            if !rows.isEmpty {
                let (blobs, engineLogger) = (engine.blobs, engine.logger)
                deleted = try await engine.mutate { c, entries in
                    let byTable = Dictionary(entries.values.map { ($0.table, $0) }, uniquingKeysWith: { a, _ in a })
                    var deleted = 0
                    for row in rows {
                        guard let entry = byTable[row.table] else { continue }
                        var writer = RowWriter(c: c, blobs: blobs, entry: entry, logger: engineLogger)
                        writer.verifyChecksums = false
                        try writer.delete(row.rid, old: nil)
                        deleted += 1
                    }
                    return deleted
                }
            }
        } catch {
            await engine.close()
            throw error
        }
        await engine.close()
        // Nothing left out: that check (young orphans aside, and there were none) was the plain one.
        guard deleted > 0 else { return (found.0, 0) }
        return (try Fsck.check(dataDirectory: target, options: FsckOptions(), online: false), deleted)
    }
}
