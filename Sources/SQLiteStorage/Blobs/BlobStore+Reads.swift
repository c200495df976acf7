import Foundation
import Synchronization

/// The reading side of ``BlobStore`` (any thread): payload reads, read generations that keep retired
/// segments open while a read that might see them runs, and flushing.
extension BlobStore {
    /// Registers a read that may use segments; returns the token for ``endRead(_:)``. A segment
    /// retired later stays open until every read registered before its retirement has ended.
    func beginRead() -> UInt64 {
        state.withLock { s in
            s.readers[s.generation, default: 0] += 1
            return s.generation
        }
    }

    /// Ends a read registered by ``beginRead()``.
    func endRead(_ token: UInt64) {
        state.withLock { s in
            if let n = s.readers[token] { s.readers[token] = n > 1 ? n - 1 : nil }
            Self.sweep(&s)
        }
    }

    /// Reads `ref` into `buffer` (which must be `ref.length` bytes).
    func read(_ ref: BlobRef, into buffer: UnsafeMutableRawBufferPointer) throws {
        guard let file = state.withLock({ $0.files[ref.segment] }) else {
            throw BlobStoreError("segment \(ref.segment) does not exist")
        }
        try file.read(into: buffer, at: ref.offset)
    }

    /// Flushes the segments appended to since the last call (before a checkpoint copies rows that
    /// point into them into the database file).
    func syncDirty() {
        let files = state.withLock { s in
            let files = s.dirty.compactMap { s.files[$0] }
            s.dirty.removeAll()
            return files
        }
        for file in files { file.sync() }
    }

    /// Flushes every open segment to stable storage (at shutdown).
    func syncAll() {
        for file in state.withLock({ Array($0.files.values) }) { file.sync() }
    }


    /// Unlinks dead segments now and closes them once no earlier read can still use them.
    func retire(_ ids: [Int64]) {
        for id in ids { unlink(path(id)) }
        state.withLock { s in
            s.generation += 1
            for id in ids { s.retired.append((id, s.generation)) }
            Self.sweep(&s)
        }
    }

    /// Closes retired segments no running read can still need.
    private static func sweep(_ s: inout State) {
        guard !s.retired.isEmpty else { return }
        let oldest = s.readers.keys.min()
        var kept: [(id: Int64, generation: UInt64)] = []
        for r in s.retired {
            if let oldest, oldest < r.generation { kept.append(r) } else { s.files[r.id] = nil }
        }
        s.retired = kept
    }
}

extension BlobStore {
    /// A segment `gl_segments` lists has no file (it was retired after the snapshot began, or is lost).
    struct MissingSegment: Error {
        /// The segment id.
        let id: Int64
    }

    /// A read-only view of the segments `gl_segments` lists on `c` (inside the caller's read
    /// transaction), for tools that run beside the daemon or offline: files are opened read-only,
    /// nothing is created or deleted. With `tolerateMissing`, a listed file that does not exist is
    /// skipped (its rows then read as unreadable); otherwise it throws ``MissingSegment`` so the
    /// caller can take a new snapshot. Returns the store and each open segment's size.
    static func readOnlyView(
        directory: String, _ c: SQLiteConnection, tolerateMissing: Bool
    ) throws -> (BlobStore, [Int64: (sealed: Int64?, size: Int64)]) {
        let store = try BlobStore(directory: directory)
        var files: [Int64: SegmentFile] = [:]
        var sizes: [Int64: (sealed: Int64?, size: Int64)] = [:]
        let rows = try c.query("SELECT id, sealed_size FROM gl_segments")
        for row in rows {
            guard case .integer(let id)? = row.first else { continue }
            var sealed: Int64?
            if row.count > 1, case .integer(let size) = row[1] { sealed = size }
            do {
                let file = try SegmentFile.open(id: id, path: store.path(id), create: false, readOnly: true)
                files[id] = file
                sizes[id] = (sealed, try file.size())
            } catch {
                if !tolerateMissing { throw MissingSegment(id: id) }
                sizes[id] = (sealed, -1)
            }
        }
        store.state.withLock { $0.files = files }
        return (store, sizes)
    }
}
