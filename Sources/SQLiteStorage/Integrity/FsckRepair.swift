import BSON
import Foundation
import Logging
import Query
import Storage

/// `gridlite fsck --repair` (offline, the caller holds the data directory's lock): opens the engine
/// (which upgrades an old schema), checks in one snapshot, then in one write transaction deletes
/// surplus duplicate chunks and orphan chunks older than the grace period and moves damaged files
/// (files document and every chunk) to the `<bucket>.quarantine` bucket, marking the files
/// document with `quarantine: {reason, at}`; then rebuilds the segment accounting from the rows,
/// compacts, and checks again. Every action is logged and listed in the report.
enum FsckRepair {
    static func run(dataDirectory: String, options: FsckOptions, logger: Logger) async throws -> FsckReport {
        let engine: SQLiteStorageEngine
        do {
            engine = try await SQLiteStorageEngine.open(directory: dataDirectory, logger: logger)
        } catch {
            throw Fsck.Failure("cannot open \(dataDirectory): \(error)")
        }
        var repairs: [String] = []
        do {
            let found = try await engine.read { c in
                var checker = FsckChecker(c: c, blobs: engine.blobs, segments: try Self.segments(c, engine.blobs),
                                          entries: engine.catalog.all(), options: options, online: false,
                                          dataDirectory: dataDirectory)
                try checker.run()
                return Plan(damaged: checker.damagedFiles, duplicates: checker.duplicateRows, orphans: checker.orphanRows,
                            problems: checker.report.problems.count)
            }
            if found.problems > 0 {
                repairs += try await apply(found, engine: engine, options: options)
            }
            repairs += try await rebuildAccounting(engine)
            if let chunks = engine.catalog.all().first(where: { $0.kind == .gridFSChunks }) {
                let freed = try await engine.compact(chunks.namespace)
                if freed > 0 { repairs.append("compacted: \(freed) bytes of disk given back") }
            }
        } catch {
            await engine.close()
            throw error
        }
        await engine.close()
        for line in repairs { logger.notice("fsck repair: \(line)") }
        var report = try Fsck.check(dataDirectory: dataDirectory, options: options, online: false)
        report.repairs = repairs
        return report
    }

    /// What the check found that repair acts on.
    struct Plan: Sendable {
        var damaged: [FsckChecker.DamagedFile]
        var duplicates: [FsckChecker.DoomedRow]
        var orphans: [FsckChecker.DoomedRow]
        var problems: Int
    }

    /// Every segment's recorded sealed size and current file size (-1: no file).
    static func segments(_ c: SQLiteConnection, _ blobs: BlobStore) throws -> [Int64: (sealed: Int64?, size: Int64)] {
        let files = blobs.state.withLock { $0.files }
        var out: [Int64: (sealed: Int64?, size: Int64)] = [:]
        for row in try c.query("SELECT id, sealed_size FROM gl_segments") {
            guard case .integer(let id)? = row.first else { continue }
            var sealed: Int64?
            if row.count > 1, case .integer(let v) = row[1] { sealed = v }
            out[id] = (sealed, (try? files[id]?.size()) ?? -1)
        }
        return out
    }

    private static func apply(_ plan: Plan, engine: SQLiteStorageEngine, options: FsckOptions) async throws -> [String] {
        let (blobs, logger) = (engine.blobs, engine.logger)
        let now = Date()
        return try await engine.mutate { c, entries in
            var done: [String] = []
            let byTable = Dictionary(entries.values.map { ($0.table, $0) }, uniquingKeysWith: { a, _ in a })
            // Surplus duplicates first (the good copy stays).
            for row in plan.duplicates {
                guard let entry = byTable[row.table] else { continue }
                var writer = RowWriter(c: c, blobs: blobs, entry: entry, logger: logger)
                writer.verifyChecksums = false
                try writer.delete(row.rid, old: nil)
                done.append("deleted duplicate chunk row \(row.rid) of \(entry.namespace)")
            }
            // Orphans past the grace period.
            var orphanCount: [String: Int] = [:]
            var kept = 0
            for row in plan.orphans {
                guard let entry = byTable[row.table] else { continue }
                var old = true
                if options.graceSeconds > 0 {
                    if case .objectId(let oid)? = row.filesId {
                        old = now.timeIntervalSince(oid.timestamp) >= options.graceSeconds
                    } else {
                        old = false
                    }
                }
                guard old else { kept += 1; continue }
                var writer = RowWriter(c: c, blobs: blobs, entry: entry, logger: logger)
                writer.verifyChecksums = false
                try writer.delete(row.rid, old: nil)
                orphanCount[entry.namespace.description, default: 0] += 1
            }
            for (ns, n) in orphanCount.sorted(by: { $0.key < $1.key }) { done.append("deleted \(n) orphan chunk(s) of \(ns)") }
            if kept > 0 { done.append("kept \(kept) orphan chunk(s) younger than the grace period (uploads may be in flight)") }
            // Damaged files to quarantine.
            for file in plan.damaged {
                if let line = try Quarantine.move(file, c: c, entries: &entries, blobs: blobs, logger: logger, at: now) {
                    done.append(line)
                }
            }
            return done
        }
    }

    /// Sets every segment's dead bytes to what no row references (size − live bytes).
    private static func rebuildAccounting(_ engine: SQLiteStorageEngine) async throws -> [String] {
        let blobs = engine.blobs
        let tables = engine.catalog.all().filter { $0.kind == .gridFSChunks }.map(\.table)
        return try await engine.mutate { c, _ in
            var referenced: [Int64: Int64] = [:]
            for table in tables {
                try c.withStatement("SELECT seg, SUM(len) FROM \(table) WHERE seg IS NOT NULL GROUP BY seg") { s in
                    while try s.step() { referenced[s.int64(0), default: 0] += s.int64(1) }
                }
            }
            let active = blobs.activeSegment
            var done: [String] = []
            for row in try c.query("SELECT id, sealed_size, dead FROM gl_segments") {
                guard row.count == 3, case .integer(let id) = row[0], case .integer(let dead) = row[2] else { continue }
                var size: Int64
                if case .integer(let sealed) = row[1] { size = sealed } else { size = active?.id == id ? active?.size ?? 0 : 0 }
                let right = max(0, size - (referenced[id] ?? 0))
                if right != dead {
                    _ = try c.execute("UPDATE gl_segments SET dead = ? WHERE id = ?", [.integer(right), .integer(id)])
                    done.append("segment \(id): dead bytes \(dead) → \(right) (rebuilt from the rows)")
                }
            }
            return done
        }
    }
}
