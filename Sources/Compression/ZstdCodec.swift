import CZstd
import Wire

/// zstd frames through the system libzstd, one-shot (the frame header carries the content size,
/// which pymongo needs to inflate).
enum ZstdCodec {
    /// The compression level: libzstd's default (3).
    static let level: Int32 = 3

    /// The most bytes `compress` may write for `count` input bytes.
    static func maxCompressedLength(_ count: Int) -> Int {
        ZSTD_compressBound(count)
    }

    /// Compresses `input` into `output` (at least ``maxCompressedLength(_:)`` bytes); returns the
    /// bytes written.
    static func compress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int {
        let written = ZSTD_compress(output.baseAddress, output.count, input.baseAddress, input.count, level)
        return ZSTD_isError(written) != 0 ? 0 : written
    }

    /// Inflates `input` into exactly `output.count` bytes. A frame that declares another content
    /// size is refused before any work; libzstd never writes past the room it is given, so a
    /// frame without a declared size that would produce more fails instead of growing.
    static func decompress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(WireProtocolError) {
        let declared = ZSTD_getFrameContentSize(input.baseAddress, input.count)
        if declared == ZSTD_CONTENTSIZE_ERROR {
            throw WireProtocolError(.invalidCompressedMessage, "zstd data is not a zstd frame")
        }
        if declared != ZSTD_CONTENTSIZE_UNKNOWN, declared != UInt64(output.count) {
            throw WireProtocolError(
                .invalidCompressedMessage,
                "zstd frame declares \(declared) bytes, but uncompressedSize says \(output.count)")
        }
        var spare: UInt8 = 0
        let produced = withUnsafeMutablePointer(to: &spare) { sparePointer in
            ZSTD_decompress(output.baseAddress ?? UnsafeMutableRawPointer(sparePointer), output.count, input.baseAddress, input.count)
        }
        if ZSTD_isError(produced) != 0 {
            let reason = String(cString: ZSTD_getErrorName(produced))
            throw WireProtocolError(.invalidCompressedMessage, "zstd data cannot be inflated into uncompressedSize (\(output.count) bytes): \(reason)")
        }
        guard produced == output.count else {
            throw WireProtocolError(
                .invalidCompressedMessage,
                "zstd data inflates to \(produced) bytes, but uncompressedSize says \(output.count)")
        }
    }
}
