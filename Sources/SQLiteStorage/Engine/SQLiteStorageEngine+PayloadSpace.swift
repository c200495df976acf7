/// Live and dead chunk-payload bytes in the segment files, for `/metrics`.
public struct PayloadSpace: Sendable, Equatable {
    /// Bytes in segment files that chunk rows still reference (segment sizes minus `dead`).
    public var liveBytes: Int64
    /// Bytes of deleted or replaced chunks not yet reclaimed by compaction (`gl_segments.dead`).
    public var deadBytes: Int64
    /// Segment files.
    public var segments: Int

    /// Figures as read.
    public init(liveBytes: Int64, deadBytes: Int64, segments: Int) {
        self.liveBytes = liveBytes
        self.deadBytes = deadBytes
        self.segments = segments
    }
}

extension SQLiteStorageEngine {
    /// The live/dead split of the segment files' bytes, from the accounting table `gl_segments` (a
    /// handful of rows) read in one snapshot; the active segment's size comes from memory, sealed
    /// ones from `sealed_size`. Payloads shorter than 1 KiB stay in their rows and are not counted.
    public func payloadSpace() async throws -> PayloadSpace {
        let blobs = self.blobs
        return try await read { c in
            let active = blobs.activeSegment
            var total: Int64 = 0
            var dead: Int64 = 0
            var segments = 0
            try c.withStatement("SELECT id, sealed_size, dead FROM gl_segments") { s in
                while try s.step() {
                    segments += 1
                    if s.isNull(1) {
                        total += active?.id == s.int64(0) ? active?.size ?? 0 : 0
                    } else {
                        total += s.int64(1)
                    }
                    dead += s.int64(2)
                }
            }
            return PayloadSpace(liveBytes: max(0, total - dead), deadBytes: dead, segments: segments)
        }
    }
}
