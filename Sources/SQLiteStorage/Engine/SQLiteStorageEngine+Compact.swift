import Foundation
import Storage

extension SQLiteStorageEngine {
    /// The `compact` command compacts a segment once this fraction of it is dead, or
    /// ``compactCommandDeadBytes``, whichever is less.
    static let compactCommandDeadFraction = 0.125
    /// See ``compactCommandDeadFraction``.
    static let compactCommandDeadBytes: Int64 = 1 << 20

    /// `compact`: for a GridFS chunks collection, compacts every segment with dead bytes worth
    /// moving (at least 1/8 or 1 MiB of it dead; the active one included: it is sealed and its
    /// live payloads move to a new one) and gives back the blocks reserved ahead of the active
    /// segment. Segments are shared by every bucket, so this frees the space of all of them. For
    /// any collection it then runs SQLite's incremental vacuum (converting a database created
    /// without `auto_vacuum` once, with a full VACUUM) and truncates the WAL. Returns the bytes of
    /// disk the data directory's files gave back. One write transaction per segment, so writes of
    /// other clients interleave.
    public func compact(_ namespace: Namespace) async throws -> Int64 {
        guard let entry = catalog.entry(namespace) else {
            throw StorageError(.namespaceNotFound, "collection does not exist")
        }
        let before = diskUsage()
        if entry.kind == .gridFSChunks {
            var done: Set<Int64> = []
            while true {
                let usage = try await segmentUsage().filter {
                    $0.deadFraction >= Self.compactCommandDeadFraction || $0.dead >= Self.compactCommandDeadBytes
                }
                // The active segment first: sealed, it stops taking the payloads moved out of the others.
                let active = usage.filter { $0.isActive && !done.contains($0.id) }
                guard let segment = BlobStore.candidate(active.isEmpty ? usage : active, minimumDeadFraction: 0, excluding: done) else { break }
                done.insert(segment.id)
                let moved = try await compactSegment(segment.id)
                logger.info("compact \(namespace): segment \(segment.id) moved \(moved) live bytes, freed \(segment.size) bytes")
            }
            let blobs = self.blobs
            _ = try await db.write { _ in try blobs.releaseReservation() }
        }
        _ = try await vacuum(minimumFreePages: 1, convert: true)
        _ = try? await db.checkpoint(.truncate)
        return max(0, before.allocated - diskUsage().allocated)
    }

    /// Gives the database file's free pages back (`PRAGMA incremental_vacuum`) once there are at
    /// least `minimumFreePages`. A file created before `auto_vacuum = INCREMENTAL` was the default
    /// has no pointer map: with `convert` it is rebuilt once by a full VACUUM (time proportional
    /// to the database file, which holds no chunk payloads), otherwise it is left alone. Returns
    /// the pages given back.
    func vacuum(minimumFreePages: Int, convert: Bool) async throws -> Int {
        // Look first on a reader, so an idle server does not take the writer every 10 s for nothing.
        let free = try await read { c -> Int64 in
            guard case .integer(let free)? = try c.pragma("freelist_count") else { return 0 }
            return free
        }
        guard free >= minimumFreePages else { return 0 }
        return try await db.write { c -> Int in
            guard case .integer(let free)? = try c.pragma("freelist_count"), free >= minimumFreePages else { return 0 }
            guard case .integer(let mode)? = try c.pragma("auto_vacuum") else { return 0 }
            if mode == 2 {
                try c.exec("PRAGMA incremental_vacuum")
            } else if convert {
                try c.exec("PRAGMA auto_vacuum = INCREMENTAL")
                try c.exec("VACUUM")
            } else {
                return 0
            }
            guard case .integer(let left)? = try c.pragma("freelist_count") else { return 0 }
            return Int(free - left)
        }
    }

    /// Bytes the data directory's files take: apparent sizes and allocated blocks of the database,
    /// its WAL and the segment files.
    func diskUsage() -> (apparent: Int64, allocated: Int64) {
        let directory = (blobs.directory as NSString).deletingLastPathComponent
        var paths = [Self.fileName, Self.fileName + "-wal"].map { (directory as NSString).appendingPathComponent($0) }
        let segments = (try? FileManager.default.contentsOfDirectory(atPath: blobs.directory)) ?? []
        paths += segments.filter { $0.hasSuffix(".seg") }.map { (blobs.directory as NSString).appendingPathComponent($0) }
        var apparent: Int64 = 0
        var allocated: Int64 = 0
        for path in paths {
            var st = stat()
            guard stat(path, &st) == 0 else { continue }
            apparent += Int64(st.st_size)
            allocated += Int64(st.st_blocks) * 512
        }
        return (apparent, allocated)
    }
}
