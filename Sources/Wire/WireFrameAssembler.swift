import NIOCore

/// Cuts the bytes a connection reads into ``WireFrame``s, like ``WireFrameDecoder`` under NIO's
/// `ByteToMessageHandler`, but owning the buffer that collects a frame spread over many reads:
///
/// - a frame that arrived whole within one read is a slice of that read's buffer (no copy);
/// - a partial frame is copied into a buffer sized once for the whole frame (its length is checked
///   against 16 and the maximum from its first four bytes, before anything is buffered);
/// - a buffer of a large frame (≥ ``reuseThreshold``) is kept after the frame went out and reused for
///   the next large frame. `ByteToMessageHandler` allocates a new cumulation buffer per message: for a
///   48 MB insert that is 12,000 freshly mapped pages, and the page faults were a third of the daemon's
///   CPU during uploads (docs/performance.md). Reuse is safe under `ByteBuffer`'s copy-on-write: if the
///   previous frame is still referenced, clearing the buffer gives it new storage. The kept buffer is
///   released when a frame under ``releaseBelow`` arrives (an upload ends with its small files-document
///   insert), or by ``releaseSpare()`` (``WireFrameHandler`` calls it once the connection has been idle
///   a few seconds), so an idle connection holds no large buffer.
public struct WireFrameAssembler {
    /// Frames at least this large keep their buffer for the next large frame.
    public static let reuseThreshold = 1 << 20
    /// A frame smaller than this (a command, not a batch of chunks) releases the kept buffer. pymongo
    /// sends a single-chunk insert (~261 KB) between two 48 MB batches, which must not release it.
    public static let releaseBelow = 64 << 10

    private var decoder: WireFrameDecoder
    /// The bytes of a frame still arriving (and whatever followed it in the same read).
    private var pending: ByteBuffer?
    /// The buffer of the last large frame, for reuse.
    private var spare: ByteBuffer?

    /// An assembler accepting frames of up to `maxMessageLength` bytes.
    public init(maxMessageLength: Int = WireFrameDecoder.defaultMaxMessageLength) {
        decoder = WireFrameDecoder(maxMessageLength: maxMessageLength)
    }

    /// True while part of a frame is buffered.
    public var hasPartialFrame: Bool { (pending?.readableBytes ?? 0) > 0 }

    /// The declared length of the frame being assembled, once its first four bytes are here (and
    /// were checked); nil when no frame is in progress or its length is not known yet.
    public var partialFrameLength: Int? {
        guard let pending, pending.readableBytes > 0 else { return nil }
        return try? decoder.declaredLength(pending)
    }

    /// The bytes of the last large frame's buffer kept for reuse (0 when none is kept).
    public var spareCapacity: Int { spare?.capacity ?? 0 }

    /// Drops the buffer kept for reuse, so an idle connection pins no large buffer.
    public mutating func releaseSpare() {
        spare = nil
    }

    /// Drops the kept buffer and moves the bytes of the frame being assembled into a buffer of
    /// their own size: a connection that must wait (for the byte budget) then holds only what it
    /// has read, not a reused 48 MB buffer whose pages are all resident. Room for the whole frame
    /// is made again when its next bytes arrive.
    public mutating func shrinkForWaiting(allocator: ByteBufferAllocator) {
        spare = nil
        guard var buffer = pending, buffer.capacity > max(2 * buffer.readableBytes, Self.releaseBelow) else { return }
        var small = allocator.buffer(capacity: max(buffer.readableBytes, 64))
        small.writeBuffer(&buffer)
        pending = small
    }

    /// Takes one read's bytes and calls `emit` with every frame they complete, in order. Throws
    /// ``WireProtocolError`` for an invalid length; the connection must then be closed.
    public mutating func feed(
        _ incoming: ByteBuffer, allocator: ByteBufferAllocator, emit: (WireFrame) throws -> Void
    ) throws {
        var incoming = incoming
        if var buffer = pending {
            pending = nil
            try reserve(&buffer, adding: incoming.readableBytes)
            buffer.writeBuffer(&incoming)
            try drain(&buffer, emit: emit)
            if buffer.readableBytes > 0 {
                try reserve(&buffer, adding: 0)
                pending = buffer
            } else if buffer.capacity >= Self.reuseThreshold {
                spare = buffer
            }
            return
        }
        try drain(&incoming, emit: emit)
        guard incoming.readableBytes > 0 else { return }
        let length = try decoder.declaredLength(incoming)
        var buffer: ByteBuffer
        if let length, length >= Self.reuseThreshold, var reused = spare, reused.capacity >= length {
            spare = nil
            reused.clear()
            buffer = reused
        } else {
            buffer = allocator.buffer(capacity: max(length ?? 0, incoming.readableBytes, 64))
        }
        buffer.writeBuffer(&incoming)
        pending = buffer
    }

    /// Emits every complete frame at the start of `buffer`.
    private mutating func drain(_ buffer: inout ByteBuffer, emit: (WireFrame) throws -> Void) throws {
        while let length = try decoder.declaredLength(buffer), buffer.readableBytes >= length {
            if length < Self.releaseBelow { spare = nil }
            guard let frame = try decoder.decode(buffer: &buffer) else { break }
            try emit(frame)
        }
    }

    /// Makes room in a pending buffer for `adding` more bytes, and for the whole frame once its
    /// length is known (one allocation for the frame, not a doubling series).
    private func reserve(_ buffer: inout ByteBuffer, adding: Int) throws {
        var needed = buffer.readableBytes + adding
        if let length = try decoder.declaredLength(buffer) { needed = max(needed, length) }
        if buffer.readerIndex > 0 && buffer.capacity - buffer.readerIndex < needed { buffer.discardReadBytes() }
        if buffer.writableBytes < needed - buffer.readableBytes {
            buffer.reserveCapacity(minimumWritableBytes: needed - buffer.readableBytes)
        }
    }
}
