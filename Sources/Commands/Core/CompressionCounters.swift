import BSON
import Synchronization

/// `serverStatus.network.compression`: per compressor, the bytes its compressor and decompressor
/// took in and gave out, in mongod's shape (`snappy.compressor.bytesIn`, …). Counted as mongod
/// counts them: message bodies without the 16-byte header on the uncompressed side, the compressed
/// payload without the OP_COMPRESSED header on the other. Lock-free atomics.
public final class CompressionCounters: Sendable {
    /// The compressors reported, by OP_COMPRESSED id (1 snappy, 2 zlib, 3 zstd), in mongod's order.
    static let reported: [(id: UInt8, name: String)] = [(1, "snappy"), (3, "zstd"), (2, "zlib")]

    /// One compressor's four counters: compressor in/out, decompressor in/out.
    private final class Slot: Sendable {
        let compressorIn = Atomic<Int>(0)
        let compressorOut = Atomic<Int>(0)
        let decompressorIn = Atomic<Int>(0)
        let decompressorOut = Atomic<Int>(0)
    }

    /// By OP_COMPRESSED id 0...3 (noop, snappy, zlib, zstd).
    private let slots: [Slot]

    /// Creates zeroed counters.
    public init() {
        slots = (0..<4).map { _ in Slot() }
    }

    /// Counts a reply compressed with compressor `id`: `bodyBytes` in, `compressedBytes` out.
    public func compressed(id: UInt8, bodyBytes: Int, compressedBytes: Int) {
        guard id < 4 else { return }
        let slot = slots[Int(id)]
        slot.compressorIn.wrappingAdd(max(bodyBytes, 0), ordering: .relaxed)
        slot.compressorOut.wrappingAdd(max(compressedBytes, 0), ordering: .relaxed)
    }

    /// Counts a request inflated with compressor `id`: `compressedBytes` in, `bodyBytes` out.
    public func decompressed(id: UInt8, compressedBytes: Int, bodyBytes: Int) {
        guard id < 4 else { return }
        let slot = slots[Int(id)]
        slot.decompressorIn.wrappingAdd(max(compressedBytes, 0), ordering: .relaxed)
        slot.decompressorOut.wrappingAdd(max(bodyBytes, 0), ordering: .relaxed)
    }

    private func read(_ id: UInt8, _ which: Int) -> Int64 {
        let slot = slots[Int(id)]
        let value = switch which {
        case 0: slot.compressorIn.load(ordering: .relaxed)
        case 1: slot.compressorOut.load(ordering: .relaxed)
        case 2: slot.decompressorIn.load(ordering: .relaxed)
        default: slot.decompressorOut.load(ordering: .relaxed)
        }
        return Int64(value)
    }

    /// The `compression` document of `serverStatus.network`.
    public var document: BSONDocument {
        var out = BSONDocument()
        for (id, name) in Self.reported {
            out.set(name, .document([
                "compressor": .document(["bytesIn": .int64(read(id, 0)), "bytesOut": .int64(read(id, 1))]),
                "decompressor": .document(["bytesIn": .int64(read(id, 2)), "bytesOut": .int64(read(id, 3))]),
            ]))
        }
        return out
    }
}
