import NIOCore
import Synchronization

/// The outbound buffer of a connection's last large deferred reply (a GridFS download batch), kept
/// for its next one: a download is a run of `getMore`s of 8 MiB each, and a fresh 8 MiB buffer per
/// reply costs the kernel a page fault and a page clearing for every 4 KiB written into it (13 % of
/// the daemon's profile with 8 concurrent 32 MiB downloads, docs/performance.md). Reused, the
/// pages are already mapped.
///
/// Safe by construction: ``take(capacity:allocator:)`` clears the kept buffer with
/// `ByteBuffer.clear(minimumCapacity:)`, which gives it fresh storage if anything (NIO still
/// writing the previous reply) holds the old one, so bytes on their way out are never overwritten.
/// Bounded: one buffer per connection, dropped as soon as the connection answers anything that is
/// not a deferred batch, so only connections in the middle of a download hold one — which they
/// held anyway while the batch was written.
final class SpareReplyBuffer: Sendable {
    /// Buffers smaller than this are not kept (small replies cost no page faults worth saving).
    static let minimumBytes = 1 << 20

    private let spare = Mutex<ByteBuffer?>(nil)

    /// A buffer with room for `capacity` bytes, empty: the kept one when there is one, else new.
    func take(capacity: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        // A kept buffer too small is not grown: growing would copy its old bytes.
        guard var buffer = spare.withLock({ kept -> ByteBuffer? in
            defer { kept = nil }
            return kept
        }), buffer.capacity >= capacity else { return allocator.buffer(capacity: capacity) }
        buffer.clear()
        return buffer
    }

    /// Keeps `buffer` (shared with the write that sends it) for the next ``take(capacity:allocator:)``.
    func keep(_ buffer: ByteBuffer) {
        guard buffer.capacity >= Self.minimumBytes else { return }
        spare.withLock { $0 = buffer }
    }

    /// Lets the kept buffer go.
    func drop() {
        spare.withLock { $0 = nil }
    }

    /// Whether a buffer is kept (tests).
    var isHolding: Bool { spare.withLock { $0 != nil } }
}
