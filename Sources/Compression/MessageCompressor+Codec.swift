import Wire

extension MessageCompressor {
    /// The most bytes ``compress(_:into:)`` may write for `count` input bytes.
    public func maxCompressedLength(_ count: Int) -> Int {
        switch self {
        case .noop: count
        case .snappy: SnappyCodec.maxCompressedLength(count)
        case .zlib: ZlibCodec.maxCompressedLength(count)
        case .zstd: ZstdCodec.maxCompressedLength(count)
        }
    }

    /// Compresses `input` into `output`, which must have at least ``maxCompressedLength(_:)``
    /// bytes; returns the number of bytes written.
    public func compress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int {
        switch self {
        case .noop:
            guard input.count <= output.count, let base = input.baseAddress, let target = output.baseAddress else { return 0 }
            target.copyMemory(from: base, byteCount: input.count)
            return input.count
        case .snappy: return SnappyCodec.compress(input, into: output)
        case .zlib: return ZlibCodec.compress(input, into: output)
        case .zstd: return ZstdCodec.compress(input, into: output)
        }
    }

    /// Inflates `input` into exactly `output.count` bytes, or throws: data that is corrupt,
    /// truncated, or that would inflate to any other size (never writing past `output`).
    public func decompress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(WireProtocolError) {
        switch self {
        case .noop:
            guard input.count == output.count else {
                throw WireProtocolError(
                    .invalidCompressedMessage,
                    "noop data has \(input.count) bytes, but uncompressedSize says \(output.count)")
            }
            if let base = input.baseAddress, let target = output.baseAddress {
                target.copyMemory(from: base, byteCount: input.count)
            }
        case .snappy: try SnappyCodec.decompress(input, into: output)
        case .zlib: try ZlibCodec.decompress(input, into: output)
        case .zstd: try ZstdCodec.decompress(input, into: output)
        }
    }
}
