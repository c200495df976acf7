import BSON
import CChecksum
import Foundation
import Storage

/// The checksum every stored document carries in its row's `crc` column: CRC-32C (hardware
/// `crc32` instruction where the CPU has it, see `Sources/CChecksum`) of the document's bytes,
/// `head + payload + tail`, so a GridFS chunk's payload in a segment file is covered end to end.
/// Computed when a row is written, checked on every read; a mismatch is never served.
enum PayloadChecksum {
    /// CRC-32C of `bytes`.
    static func compute(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress else { return 0 }
        return gridlite_crc32c(0, base, bytes.count)
    }

    /// CRC-32C continued over `bytes` from `crc` (the CRC of the bytes before them; 0 to start),
    /// so a document stored in parts is checked without putting it together.
    static func extend(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return crc }
        return gridlite_crc32c(crc, base, bytes.count)
    }

    /// CRC-32C of `bytes`.
    static func compute(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { compute($0) }
    }

    /// `GRIDLITE_BENCH_NO_CHECKSUMS=1`: rows are written without a checksum and reads verify none.
    /// Only for `bench/integrity_bench.py`, which measures what checksums cost against the same
    /// binary without them; never set it on data you keep (such rows are fsck problems, and a
    /// flipped bit in them would be served). The engine logs a warning when it is set.
    static let benchDisabled = ProcessInfo.processInfo.environment["GRIDLITE_BENCH_NO_CHECKSUMS"] == "1"

    /// Whether the hardware instruction is used.
    static var usesHardware: Bool { gridlite_crc32c_hardware() != 0 }

    /// The error for a document whose bytes do not match its checksum (counted in
    /// ``DataIntegrity``). Names the chunk (`files_id`, `n`) when the bytes still frame one.
    static func mismatch(_ bytes: [UInt8], expected: UInt32, actual: UInt32) -> StorageError {
        DataIntegrity.recordCorruption()
        return StorageError(.dataCorruptionDetected,
                            "\(describe(bytes)) fails its checksum (stored crc32c \(hex(expected)), read \(hex(actual))); the data on disk is damaged and is not served")
    }

    /// The error for a document whose payload cannot be read back (segment missing or truncated).
    static func unreadable(_ bytes: [UInt8], reason: String) -> StorageError {
        DataIntegrity.recordCorruption()
        return StorageError(.dataCorruptionDetected, "\(describe(bytes)) cannot be read: \(reason)")
    }

    /// "chunk n=3 of files_id ObjectId('…')", or "document _id …" for other documents.
    static func describe(_ bytes: [UInt8]) -> String {
        guard let doc = BSONDocument(storedBytes: bytes) else { return "a stored document" }
        if let fid = doc["files_id"], let n = doc["n"] {
            return "chunk n=\(n.intValue.map(String.init) ?? "?") of files_id \(BSONDocument([("v", fid)]).relaxedValueText)"
        }
        if let id = doc["_id"] { return "document _id \(BSONDocument([("v", id)]).relaxedValueText)" }
        return "a stored document"
    }

    private static func hex(_ v: UInt32) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}
