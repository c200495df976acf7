import Compression
import CZstd
import NIOCore
import TestSupport
import Testing
import Wire

/// Byte-level behaviour of each codec: round trips, and refusal of anything that would not
/// inflate to exactly the declared size.
@Suite struct CodecTests {
    static let real: [MessageCompressor] = [.snappy, .zlib, .zstd]

    /// `count` bytes from a seeded generator (incompressible).
    static func random(_ count: Int, seed: UInt64 = 7) -> [UInt8] {
        var rng = SplitMix64(state: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }

    /// `count` bytes of repetitive text (compresses well).
    static func text(_ count: Int) -> [UInt8] {
        let line = Array("gridlite keeps GridFS chunks in SQLite; ".utf8)
        return (0..<count).map { line[$0 % line.count] }
    }

    static func compress(_ input: [UInt8], with compressor: MessageCompressor) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: compressor.maxCompressedLength(input.count))
        let written = input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { compressor.compress(source, into: $0) }
        }
        return Array(output.prefix(written))
    }

    static func decompress(_ input: [UInt8], with compressor: MessageCompressor, size: Int) throws(WireProtocolError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: size)
        var failure: WireProtocolError?
        input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { target in
                do throws(WireProtocolError) { try compressor.decompress(source, into: target) } catch { failure = error }
            }
        }
        if let failure { throw failure }
        return output
    }

    @Test(arguments: MessageCompressor.allCases)
    func roundTrips(_ compressor: MessageCompressor) throws {
        for input in [[], [42], Self.random(100_000), Self.text(1 << 20)] {
            let compressed = Self.compress(input, with: compressor)
            if input.isEmpty == false { #expect(compressed.isEmpty == false) }
            #expect(try Self.decompress(compressed, with: compressor, size: input.count) == input)
        }
    }

    @Test(arguments: real)
    func compressibleDataShrinks(_ compressor: MessageCompressor) {
        let input = Self.text(1 << 20)
        #expect(Self.compress(input, with: compressor).count < input.count / 10)
    }

    /// A bomb: 16 MiB of zeros declared as 1000 bytes stops at 1000 and is refused.
    @Test(arguments: real)
    func bombIsRefused(_ compressor: MessageCompressor) {
        let bomb = Self.compress([UInt8](repeating: 0, count: 16 << 20), with: compressor)
        #expect(bomb.count < 1 << 20)
        #expect(throws: WireProtocolError.self) { try Self.decompress(bomb, with: compressor, size: 1000) }
    }

    /// Data that inflates to fewer bytes than declared is refused too.
    @Test(arguments: MessageCompressor.allCases)
    func shortDataIsRefused(_ compressor: MessageCompressor) {
        let compressed = Self.compress(Self.text(5000), with: compressor)
        #expect(throws: WireProtocolError.self) { try Self.decompress(compressed, with: compressor, size: 5001) }
        #expect(throws: WireProtocolError.self) { try Self.decompress(compressed, with: compressor, size: 4999) }
    }

    @Test(arguments: real)
    func truncatedDataIsRefused(_ compressor: MessageCompressor) {
        let input = Self.random(50_000, seed: 3)
        let compressed = Self.compress(input, with: compressor)
        for cut in [0, 1, compressed.count / 2, compressed.count - 1] {
            let truncated = Array(compressed.prefix(cut))
            #expect(throws: WireProtocolError.self) { try Self.decompress(truncated, with: compressor, size: input.count) }
        }
    }

    @Test(arguments: real)
    func garbageIsRefused(_ compressor: MessageCompressor) {
        #expect(throws: WireProtocolError.self) { try Self.decompress(Self.random(4096, seed: 11), with: compressor, size: 4096) }
    }

    /// A zstd frame without a declared content size cannot be checked up front; libzstd still
    /// stops at the room it is given, so a bomb of that kind is refused as well.
    @Test func zstdFrameWithoutContentSizeIsBounded() throws {
        let input = [UInt8](repeating: 0, count: 8 << 20)
        var output = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let context = ZSTD_createCCtx()
        defer { ZSTD_freeCCtx(context) }
        ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 0)
        let written = input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { ZSTD_compress2(context, $0.baseAddress, $0.count, source.baseAddress, source.count) }
        }
        #expect(ZSTD_isError(written) == 0)
        let frame = Array(output.prefix(written))
        #expect(ZSTD_getFrameContentSize(frame, frame.count) == ZSTD_CONTENTSIZE_UNKNOWN)
        #expect(throws: WireProtocolError.self) { try Self.decompress(frame, with: .zstd, size: 4096) }
        #expect(try Self.decompress(frame, with: .zstd, size: input.count) == input)
    }

    /// What drivers write: zlib's stream is zlib-wrapped (0x78 header), zstd starts with its magic
    /// number and carries the content size, snappy starts with the varint length.
    @Test func formatsAreTheDriversOnes() {
        let input = Self.text(300)
        #expect(Self.compress(input, with: .zlib).first == 0x78)
        let zstd = Self.compress(input, with: .zstd)
        #expect(Array(zstd.prefix(4)) == [0x28, 0xB5, 0x2F, 0xFD])
        #expect(ZSTD_getFrameContentSize(zstd, zstd.count) == 300)
        #expect(Array(Self.compress(input, with: .snappy).prefix(2)) == [0xAC, 0x02])  // varint 300
    }
}
