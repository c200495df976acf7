import CZlib
import Wire

/// zlib-wrapped deflate (RFC 1950) through the system zlib.
enum ZlibCodec {
    /// The compression level: zlib's default (6), which is also mongod's `zlibCompressionLevel`.
    static let level = Z_DEFAULT_COMPRESSION

    /// The most bytes `compress` may write for `count` input bytes.
    static func maxCompressedLength(_ count: Int) -> Int {
        Int(compressBound(uLong(count)))
    }

    /// Compresses `input` into `output` (at least ``maxCompressedLength(_:)`` bytes); returns the
    /// bytes written.
    static func compress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int {
        guard let destination = output.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return 0 }
        var length = uLongf(output.count)
        var empty: Bytef = 0
        let status = withUnsafePointer(to: &empty) { emptyPointer in
            compress2(
                destination, &length, input.baseAddress?.assumingMemoryBound(to: Bytef.self) ?? emptyPointer,
                uLong(input.count), level)
        }
        return status == Z_OK ? Int(length) : 0
    }

    /// Inflates `input` into exactly `output.count` bytes. The stream runs with that much room
    /// and no more: a stream that has not ended when the room is full is refused (a bomb stops
    /// there), as is one that ends short.
    static func decompress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(WireProtocolError) {
        var stream = z_stream()
        guard inflateInit_(&stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw WireProtocolError(.invalidCompressedMessage, "zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }
        var spare: Bytef = 0
        let status: Int32 = withUnsafeMutablePointer(to: &spare) { sparePointer in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(clamping: input.count)
            stream.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self) ?? sparePointer
            stream.avail_out = uInt(clamping: output.count)
            var status = inflate(&stream, Z_FINISH)
            if status != Z_STREAM_END, stream.avail_out == 0 {
                // The room is full: one more byte of room tells "ends exactly here" (a stream
                // end marker still pending) from "has more to give" (too much data).
                stream.next_out = sparePointer
                stream.avail_out = 1
                status = inflate(&stream, Z_FINISH)
            }
            return status
        }
        let produced = Int(stream.total_out)
        guard status == Z_STREAM_END else {
            if produced > output.count {
                throw WireProtocolError(
                    .invalidCompressedMessage,
                    "zlib data inflates past uncompressedSize (\(output.count) bytes); refused")
            }
            throw WireProtocolError(.invalidCompressedMessage, "zlib data is corrupt or truncated (status \(status))")
        }
        guard produced == output.count else {
            throw WireProtocolError(
                .invalidCompressedMessage,
                "zlib data inflates to \(produced) bytes, but uncompressedSize says \(output.count)")
        }
    }
}
