/// Where a chunk payload lives outside SQLite: `length` bytes at `offset` in segment file `segment`.
/// Stored in a chunk row's `seg`, `off`, `len` columns.
struct BlobRef: Sendable, Hashable {
    /// The segment's id (its row in `gl_segments`, and its file name).
    let segment: Int64
    /// Byte offset inside the segment file.
    let offset: Int64
    /// Payload length in bytes.
    let length: Int
}

/// A failure of the blob files (I/O, or a row pointing at a segment that is gone).
struct BlobStoreError: Error, CustomStringConvertible {
    /// What went wrong.
    let message: String
    /// Creates an error with a message.
    init(_ message: String) { self.message = message }
    /// The message.
    var description: String { message }
}
