import CSnappy
import Wire

/// snappy's raw block format through libsnappy's C API.
enum SnappyCodec {
    /// The most bytes `compress` may write for `count` input bytes.
    static func maxCompressedLength(_ count: Int) -> Int {
        snappy_max_compressed_length(count)
    }

    /// Compresses `input` into `output` (at least ``maxCompressedLength(_:)`` bytes); returns the
    /// bytes written.
    static func compress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int {
        guard let target = output.baseAddress?.assumingMemoryBound(to: CChar.self) else { return 0 }
        var length = output.count
        let status = withBase(of: input) { source in
            snappy_compress(source.assumingMemoryBound(to: CChar.self), input.count, target, &length)
        }
        // With an output of snappy_max_compressed_length bytes snappy cannot fail.
        return status == SNAPPY_OK ? length : 0
    }

    /// Inflates `input` into exactly `output.count` bytes. The block's own length preamble is
    /// read first and must equal the declared size, so nothing larger is ever produced.
    static func decompress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(WireProtocolError) {
        let source = input.baseAddress?.assumingMemoryBound(to: CChar.self)
        var declared = 0
        guard let source, snappy_uncompressed_length(source, input.count, &declared) == SNAPPY_OK else {
            throw WireProtocolError(.invalidCompressedMessage, "snappy data is corrupt (no valid length preamble)")
        }
        guard declared == output.count else {
            throw WireProtocolError(
                .invalidCompressedMessage,
                "snappy data inflates to \(declared) bytes, but uncompressedSize says \(output.count)")
        }
        guard let destination = output.baseAddress?.assumingMemoryBound(to: CChar.self) else {
            // Nothing to write: the (empty) block only has to be well formed.
            guard snappy_validate_compressed_buffer(source, input.count) == SNAPPY_OK else {
                throw WireProtocolError(.invalidCompressedMessage, "snappy data is corrupt")
            }
            return
        }
        var length = output.count
        guard snappy_uncompress(source, input.count, destination, &length) == SNAPPY_OK, length == output.count else {
            throw WireProtocolError(.invalidCompressedMessage, "snappy data is corrupt")
        }
    }
}

/// Calls `body` with `input`'s base address, or with the address of a zero byte when `input` is
/// empty and has none (the C APIs want a non-null pointer even for zero bytes).
func withBase<R>(of input: UnsafeRawBufferPointer, _ body: (UnsafeRawPointer) -> R) -> R {
    if let base = input.baseAddress { return body(base) }
    return withUnsafePointer(to: UInt8(0)) { body(UnsafeRawPointer($0)) }
}
