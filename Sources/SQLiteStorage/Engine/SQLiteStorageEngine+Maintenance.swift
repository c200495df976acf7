import Storage

extension SQLiteStorageEngine {
    /// A sealed segment is compacted once at least this fraction of its bytes is dead.
    static let compactionDeadFraction = 0.5

    /// Compacts the sealed segment with the most dead bytes, if at least half of it is dead: its live
    /// payloads are copied to the active segment (rows updated in one transaction), after which the
    /// whole segment is dead and its file is removed. One segment per call, so one call moves at most
    /// half a segment (128 MiB by default) while holding the writer.
    public func maintenance() async throws -> [String] {
        let fraction = Self.compactionDeadFraction
        let candidate = try await read { c -> Int64? in
            try c.withStatement(
                "SELECT id FROM gl_segments WHERE sealed_size > 0 AND dead >= sealed_size * ? ORDER BY dead DESC LIMIT 1"
            ) { s in
                try s.bind(fraction, at: 1)
                return try s.step() ? s.int64(0) : nil
            }
        }
        guard let segment = candidate else { return [] }
        let blobs = self.blobs
        let moved = try await mutate { c, entries -> Int64 in
            var moved: Int64 = 0
            for entry in entries.values {
                moved += try Self.moveLivePayloads(out: segment, of: entry, c, blobs: blobs)
            }
            return moved
        }
        return ["compacted segment \(segment): moved \(moved) live bytes"]
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
