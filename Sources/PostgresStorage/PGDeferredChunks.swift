import BSON
import NIOCore
import Query
import Storage

/// The copy-saving read of GridFS chunk rows on PostgreSQL (docs/scaling.md, "Downloads"): a row's
/// `doc` cell stays in the receive buffer postgres-nio decoded it into, and becomes a
/// ``DeferredDocument`` that copies it once, straight into the reply being written. The filter
/// sees a stand-in: the row's BSON with a zero-length `data` (a few dozen bytes copied instead of
/// 255 KiB), which is why deferral is limited to filters on `_id`, `files_id` and `n` — the same
/// rule as the SQLite engine's deferred chunks. Before: each chunk was copied out of the receive
/// buffer into a document, into the reply document, and into the reply buffer.
///
/// The receive buffer a cell refers to is kept alive by the `ByteBuffer` the document holds (a
/// reference-counted slice), so nothing is read after the statement's connection went back to the
/// pool. A row whose bytes are not a framed document, or whose `data` cannot be found by the walk
/// below, is read the ordinary way (copied and checked now).
enum PGDeferredChunks {
    /// Top-level filter fields a deferred read may see: the stand-in lacks only the payload.
    static let filterFields: Set<String> = ["_id", "files_id", "n"]

    /// Whether a query on `entry` may be read deferred.
    static func canDefer(_ entry: PGCollection, _ filter: Filter) -> Bool {
        entry.namespace.kind == .gridFSChunks && filter.document.keys.allSatisfy { filterFields.contains($0) }
    }

    /// Holds the deferred document of the row being visited (one scan, one thread).
    final class Slot {
        var current: DeferredDocument?

        /// The deferred document of the row just visited, for ``QueryProgress``'s `take`.
        func take() throws -> (DeferredDocument, Int) {
            guard let document = current else { throw StorageError(.internalError, "deferred chunk read lost its row") }
            current = nil
            return (document, document.byteCount)
        }
    }

    /// The stand-in document and the deferred document for one stored `doc` cell; nil when its
    /// framing is wrong (the caller reports the row as damaged).
    static func read(_ cell: ByteBuffer) -> (BSONDocument, DeferredDocument)? {
        let count = cell.readableBytes
        guard let layout = cell.withUnsafeReadableBytes({ Self.payloadRange($0) }) else {
            guard let doc = BSONDocument(storedBytes: Array(cell.readableBytesView)) else { return nil }
            let payload = doc.element(forKey: "data")?.binaryPayloadRange?.count ?? 0
            return (doc, DeferredDocument(doc, payloadBytes: payload))
        }
        guard var stub = cell.getBytes(at: cell.readerIndex, length: layout.lowerBound),
              let tail = cell.getBytes(at: cell.readerIndex + layout.upperBound, length: count - layout.upperBound) else { return nil }
        stub.append(contentsOf: tail)
        setInt32(&stub, Int32(truncatingIfNeeded: stub.count), at: 0)
        setInt32(&stub, 0, at: layout.lowerBound - 5)
        guard let doc = BSONDocument(storedBytes: stub) else { return nil }
        let document = DeferredDocument(byteCount: count, payloadBytes: layout.count) { destination in
            guard destination.count == cell.readableBytes, let to = destination.baseAddress else {
                throw StorageError(.internalError, "chunk written into a buffer of the wrong size")
            }
            cell.withUnsafeReadableBytes { from in
                if let source = from.baseAddress { to.copyMemory(from: source, byteCount: from.count) }
            }
        }
        return (doc, document)
    }

    /// Where the payload of the top-level binary field `data` lies in a framed document: the bytes
    /// after its length and subtype. Nil when the framing is wrong, there is no such field, or the
    /// walk meets a type it does not size here (the caller then reads the row whole).
    static func payloadRange(_ bytes: UnsafeRawBufferPointer) -> Range<Int>? {
        let count = bytes.count
        guard count >= 5, let declared = int32(bytes, 0), Int(declared) == count, bytes[count - 1] == 0 else { return nil }
        var offset = 4
        while offset < count - 1 {
            let type = bytes[offset]
            var keyEnd = offset + 1
            while keyEnd < count, bytes[keyEnd] != 0 { keyEnd += 1 }
            guard keyEnd < count - 1 else { return nil }
            let value = keyEnd + 1
            let isData = keyEnd - offset - 1 == 4 && bytes[offset + 1] == 0x64 && bytes[offset + 2] == 0x61
                && bytes[offset + 3] == 0x74 && bytes[offset + 4] == 0x61
            let size: Int
            switch type {
            case 0x01, 0x09, 0x11, 0x12: size = 8
            case 0x10: size = 4
            case 0x07: size = 12
            case 0x08: size = 1
            case 0x13: size = 16
            case 0x0A, 0x06, 0x7F, 0xFF: size = 0
            case 0x02, 0x0D, 0x0E:
                guard let n = int32(bytes, value), n >= 1 else { return nil }
                size = 4 + Int(n)
            case 0x03, 0x04:
                guard let n = int32(bytes, value), n >= 5 else { return nil }
                size = Int(n)
            case 0x05:
                guard let n = int32(bytes, value), n >= 0 else { return nil }
                size = 5 + Int(n)
                if isData {
                    guard value + size <= count - 1 else { return nil }
                    return (value + 5)..<(value + size)
                }
            default:
                return nil
            }
            guard size <= count - 1 - value else { return nil }
            offset = value + size
        }
        return nil
    }

    private static func int32(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> Int32? {
        guard at >= 0, at <= bytes.count - 4 else { return nil }
        return Int32(bitPattern: UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16
                     | UInt32(bytes[at + 3]) << 24)
    }

    private static func setInt32(_ bytes: inout [UInt8], _ value: Int32, at offset: Int) {
        let v = UInt32(bitPattern: value)
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
    }
}
