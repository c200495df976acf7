import BSON

/// A stored document whose bytes are assembled straight into the caller's buffer, and verified
/// there, when the caller writes it: the zero-copy read path for GridFS chunks (docs/performance.md,
/// "Downloads"). A backend that keeps a chunk's payload in a file region hands out the row's small
/// parts (the BSON before and after the payload) and the region; ``write(into:)`` copies the parts,
/// reads the region once (`pread`) into its place and checks the row's checksum over the bytes now in
/// the destination, so the bytes verified are the bytes sent.
///
/// Reusable by any front end that serialises documents into its own buffers (the wire server does;
/// the HTTP gateway could for whole chunks). Only valid while the ``DeferredBatch`` it came in is.
public struct DeferredDocument: Sendable {
    /// The document's size in bytes.
    public let byteCount: Int
    /// Bytes of its GridFS `data` payload (0 for other documents), for traffic metrics.
    public let payloadBytes: Int
    private let fill: @Sendable (UnsafeMutableRawBufferPointer) throws -> Void

    /// A document of `byteCount` bytes that `fill` writes (exactly that many) into a destination
    /// and verifies, throwing DataCorruptionDetected (301) when the stored bytes do not check out.
    public init(byteCount: Int, payloadBytes: Int, fill: @escaping @Sendable (UnsafeMutableRawBufferPointer) throws -> Void) {
        self.byteCount = byteCount
        self.payloadBytes = payloadBytes
        self.fill = fill
    }

    /// A document already in memory (verified when it was read).
    public init(_ document: BSONDocument, payloadBytes: Int = 0) {
        let bytes = document.bytes
        self.init(byteCount: bytes.count, payloadBytes: payloadBytes) { destination in
            bytes.withUnsafeBytes { source in
                if let to = destination.baseAddress, let from = source.baseAddress { to.copyMemory(from: from, byteCount: source.count) }
            }
        }
    }

    /// Writes the document into `destination`, which must be exactly ``byteCount`` bytes, and
    /// verifies it. When this throws, `destination` holds unverified bytes and must not be sent.
    public func write(into destination: UnsafeMutableRawBufferPointer) throws {
        guard destination.count == byteCount else {
            throw StorageError(.internalError, "deferred document of \(byteCount) bytes written into \(destination.count)")
        }
        try fill(destination)
    }

    /// The document as a value (one copy), for the paths that need a ``BSONDocument``.
    public func materialize() throws -> BSONDocument {
        var failure: (any Error)?
        let bytes = [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, count in
            do {
                try write(into: UnsafeMutableRawBufferPointer(buffer))
            } catch {
                failure = error
                UnsafeMutableRawBufferPointer(buffer).initializeMemory(as: UInt8.self, repeating: 0)
            }
            count = byteCount
        }
        if let failure { throw failure }
        guard let document = BSONDocument(storedBytes: bytes) else {
            throw StorageError(.internalError, "a deferred document is not framed as BSON")
        }
        return document
    }
}

/// One cursor batch of ``DeferredDocument``s. It keeps what they refer to (for SQLite, segment files
/// that a later delete or compaction may retire) readable until the batch is released: when the
/// last reference to it goes away, which is after its documents were written (or it was dropped).
public final class DeferredBatch: Sendable {
    /// The documents, in cursor order.
    public let documents: [DeferredDocument]
    private let release: (@Sendable () -> Void)?

    /// A batch that calls `release` once no one holds it any more.
    public init(documents: [DeferredDocument], release: (@Sendable () -> Void)? = nil) {
        self.documents = documents
        self.release = release
    }

    deinit { release?() }

    /// Bytes of all its documents.
    public var byteCount: Int { documents.reduce(0) { $0 &+ $1.byteCount } }

    /// Bytes of all their GridFS payloads.
    public var payloadBytes: Int { documents.reduce(0) { $0 &+ $1.payloadBytes } }
}

extension DocumentCursor {
    /// Cursors that cannot defer reads answer nil: callers then use ``nextBatch(maxCount:maxBytes:)``.
    public func nextDeferredBatch(maxCount: Int, maxBytes: Int) async throws -> DeferredBatch? { nil }
}
