import Foundation

/// Giving disk space back: what maintenance and `compact` need to know about the active segment,
/// and releasing the blocks reserved ahead of it.
extension BlobStore {
    /// One segment's accounting: its size (the active segment's current size when not sealed) and
    /// its dead bytes.
    struct SegmentUsage: Sendable, Equatable {
        /// The segment id.
        var id: Int64
        /// Bytes in the segment.
        var size: Int64
        /// Bytes no row references any more.
        var dead: Int64
        /// True for the segment that takes appends.
        var isActive: Bool

        /// The fraction of the segment that is dead (0 for an empty one).
        var deadFraction: Double { size > 0 ? Double(dead) / Double(size) : 0 }
    }

    /// The active segment's id and size, nil when there is none.
    var activeSegment: (id: Int64, size: Int64)? {
        state.withLock { s in s.active.map { ($0.file.id, $0.size) } }
    }

    /// How long ago the writer last appended a payload.
    var idleDuration: Duration {
        ContinuousClock.now - state.withLock { $0.lastAppend }
    }

    /// Bytes reserved on disk past the active segment's end.
    var reservedBytes: Int64 {
        state.withLock { s in s.active.map { max(0, $0.reserved - $0.size) } ?? 0 }
    }

    /// Every segment with dead bytes, from `gl_segments` (the active one sized from memory).
    func usage(_ c: SQLiteConnection) throws -> [SegmentUsage] {
        let active = activeSegment
        var out: [SegmentUsage] = []
        try c.withStatement("SELECT id, sealed_size, dead FROM gl_segments WHERE dead > 0") { s in
            while try s.step() {
                let id = s.int64(0)
                let isActive = s.isNull(1)
                let size = isActive ? (active?.id == id ? active?.size ?? 0 : 0) : s.int64(1)
                out.append(SegmentUsage(id: id, size: size, dead: s.int64(2), isActive: isActive))
            }
        }
        return out
    }

    /// The segment to compact next: the one with the most dead bytes among those at least
    /// `minimumDeadFraction` dead, skipping `excluded`.
    static func candidate(_ usage: [SegmentUsage], minimumDeadFraction: Double, excluding excluded: Set<Int64> = []) -> SegmentUsage? {
        usage.filter { $0.size > 0 && $0.dead > 0 && $0.deadFraction >= minimumDeadFraction && !excluded.contains($0.id) }
            .max { ($0.dead, $1.id) < ($1.dead, $0.id) }
    }

    /// Seals the active segment when it is `segment` (inside the writer's transaction), so that
    /// compaction can move its live payloads into a new one. True when it was sealed.
    func sealActive(_ c: SQLiteConnection, ifItIs segment: Int64) throws -> Bool {
        guard let active = state.withLock({ $0.active }), active.file.id == segment else { return false }
        try seal(c, active)
        return true
    }

    /// Gives back the disk blocks reserved past the active segment's end (`fallocate` keeps up to
    /// 32 MiB ahead while payloads stream in). Runs on the writer (appends move the end); the next
    /// append reserves again. Returns the bytes released.
    func releaseReservation() throws -> Int64 {
        guard let active = state.withLock({ $0.active }), active.reserved > active.size else { return 0 }
        // A truncation to the current size frees the blocks past it (ext4, xfs, btrfs).
        try active.file.truncate(to: active.size)
        state.withLock { s in
            if s.active?.file.id == active.file.id { s.active?.reserved = active.size }
        }
        return active.reserved - active.size
    }
}
