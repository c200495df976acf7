import Storage

extension SQLiteStorageEngine {
    /// Background compaction takes a segment once at least this fraction of its bytes is dead.
    static let compactionDeadFraction = 0.5
    /// Background incremental vacuum runs once the database file has this many free pages.
    static let vacuumFreePages = 256

    /// One bounded step of housekeeping (the server calls it every 10 s, repeating while it reports
    /// work): compacts the segment with the most dead bytes once at least half of it is dead — a
    /// sealed one at any time, the active one once the writer is idle (it is sealed, its live
    /// payloads move to a new active segment); when idle, also gives back the blocks reserved
    /// ahead of the active segment and runs SQLite's incremental vacuum. One segment per call, so
    /// one call moves at most half a segment (128 MiB by default) while holding the writer.
    public func maintenance() async throws -> [String] {
        // A stream in progress keeps its segment and its reservation.
        let idle = blobs.idleDuration >= blobs.configuration.idleBeforeReclaiming
        let usage = try await segmentUsage()
        let eligible = idle ? usage : usage.filter { !$0.isActive }
        if let segment = BlobStore.candidate(eligible, minimumDeadFraction: Self.compactionDeadFraction) {
            let moved = try await compactSegment(segment.id)
            return ["compacted segment \(segment.id)\(segment.isActive ? " (active)" : ""): moved \(moved) live bytes, freed \(segment.size) bytes"]
        }
        guard idle else { return [] }
        var done: [String] = []
        let blobs = self.blobs
        if blobs.reservedBytes > 0 {
            let released = try await db.write { _ in try blobs.releaseReservation() }
            if released > 0 { done.append("released \(released) bytes reserved ahead of the active segment") }
        }
        let pages = try await vacuum(minimumFreePages: Self.vacuumFreePages, convert: false)
        if pages > 0 { done.append("incremental vacuum gave back \(pages) free pages of the database file") }
        // Idle: the connections' page caches (up to 16 MiB each) go back to the allocator.
        await db.releaseMemory()
        return done
    }

    /// Every segment with dead bytes.
    func segmentUsage() async throws -> [BlobStore.SegmentUsage] {
        let blobs = self.blobs
        return try await read { c in try blobs.usage(c) }
    }

    /// Moves the live payloads of `segment` into the active segment in one write transaction
    /// (sealing `segment` first when it is the active one). Afterwards nothing references it, so
    /// it is counted entirely dead and its file is deleted right after COMMIT. Returns the bytes
    /// moved. A crash before COMMIT leaves the rows pointing at the old segment, which still exists.
    func compactSegment(_ segment: Int64) async throws -> Int64 {
        let blobs = self.blobs
        return try await mutate { c, entries -> Int64 in
            _ = try blobs.sealActive(c, ifItIs: segment)
            var moved: Int64 = 0
            for entry in entries.values {
                moved += try Self.moveLivePayloads(out: segment, of: entry, c, blobs: blobs)
            }
            // Whatever the accounting still counts live (bytes of an interrupted write that a
            // clean start-up never reconciled) is referenced by no row: count it dead too.
            let unaccounted = try c.withStatement("SELECT sealed_size - dead FROM gl_segments WHERE id = ?") { s in
                try s.bind(segment, at: 1)
                return try s.step() && !s.isNull(0) ? s.int64(0) : 0
            }
            blobs.release(segment: segment, bytes: unaccounted - moved)
            return moved
        }
    }

    /// Copies every payload `entry` keeps in `segment` to the active segment; returns the bytes moved.
    static func moveLivePayloads(out segment: Int64, of entry: CollectionEntry, _ c: SQLiteConnection, blobs: BlobStore) throws -> Int64 {
        var rows: [(Int64, BlobRef)] = []
        try c.withStatement("SELECT rid, seg, off, len FROM \(entry.table) WHERE seg = ?") { s in
            try s.bind(segment, at: 1)
            while try s.step() {
                if let ref = StoredDocument.ref(s, at: 1) { rows.append((s.int64(0), ref)) }
            }
        }
        var moved: Int64 = 0
        var buffer: [UInt8] = []
        try c.withStatement("UPDATE \(entry.table) SET seg = ?, off = ?, len = ? WHERE rid = ?") { s in
            for (rid, ref) in rows {
                buffer = [UInt8](repeating: 0, count: ref.length)
                try buffer.withUnsafeMutableBytes { try blobs.read(ref, into: $0) }
                let new = try buffer.withUnsafeBytes { try blobs.append(c, $0) }
                try s.bind(new.segment, at: 1)
                try s.bind(new.offset, at: 2)
                try s.bind(new.length, at: 3)
                try s.bind(rid, at: 4)
                try s.run()
                blobs.release(ref)
                moved += Int64(ref.length)
            }
        }
        return moved
    }
}
