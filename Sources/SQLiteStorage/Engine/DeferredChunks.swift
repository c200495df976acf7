import BSON
import Executors
import Query
import Storage

/// The zero-copy read of GridFS chunk rows: each row whose payload lives in a segment file becomes a
/// ``DeferredDocument`` (the row's `head` and `tail`, the payload's ``BlobRef`` and the row's CRC-32C)
/// that is assembled in the caller's buffer — the payload `pread` straight into its place — and
/// verified there against the row's checksum before it may be sent. The scan hands the filter a
/// stand-in document: the row's BSON with a zero-length `data`, which is why deferral is limited to
/// filters that look only at `_id`, `files_id` and `n` (``QueryState/canDefer``).
///
/// Why the region stays valid after the read transaction ends: segment files are append-only and a
/// committed payload's bytes are never rewritten; a delete or compaction only retires whole segments,
/// and a retired segment stays open while a read registered before it (``BlobStore/beginRead()``,
/// held by the ``DeferredBatch`` until it is released) may still use it.
enum DeferredChunks {
    /// The record scanner of a deferred read: ``Scanner`` with the stand-in row reader. The deferred
    /// document of the row just visited is left in `slot` for the caller's `take`.
    struct Records: RecordScanner {
        let c: SQLiteConnection
        let entry: CollectionEntry
        let blobs: BlobStore
        let slot: Slot

        func scan(_ plan: AccessPlan, from position: inout ScanPosition,
                  visit: (RecordID, BSONDocument) throws -> ScanStep) throws {
            try Scanner.scan(c, entry: entry, plan: plan, position: &position, row: { s, at in
                guard let (stub, deferred) = try DeferredChunks.read(s, at: at, blobs: blobs) else { return nil }
                slot.current = deferred
                return stub
            }, visit: visit)
        }
    }

    /// Holds the deferred document of the row being visited (one scan, one thread).
    final class Slot {
        var current: DeferredDocument?
    }

    /// Top-level filter fields a deferred read may see: the stand-in lacks only the payload.
    static let filterFields: Set<String> = ["_id", "files_id", "n"]

    /// The stand-in and the deferred document of the current row (columns ``StoredDocument/columns``
    /// from `at`). A row without a segment payload (small payloads stay inline) is read and verified
    /// now, as the buffered path does. Nil when the stored bytes are not a framed document.
    static func read(_ s: SQLiteStatement, at: Int32, blobs: BlobStore) throws -> (BSONDocument, DeferredDocument)? {
        guard let ref = StoredDocument.ref(s, at: at + 3) else { return try readNow(s, at: at, blobs: blobs) }
        let head = s.blob(at)
        let tail = s.isNull(at + 2) ? [] : s.blob(at + 2)
        // The head ends with the payload's binary header (int32 length, subtype byte); the tail ends
        // the document. Anything else was not written by this engine's chunk layout: read it whole.
        guard head.count >= 10, !tail.isEmpty, ref.length >= 0,
              ref.length <= Int(Int32.max) - head.count - tail.count,
              let declared = int32(head, at: head.count - 5), Int(declared) == ref.length else {
            return try readNow(s, at: at, blobs: blobs)
        }
        var stubBytes = head
        stubBytes.append(contentsOf: tail)
        setInt32(&stubBytes, Int32(stubBytes.count), at: 0)
        setInt32(&stubBytes, 0, at: head.count - 5)
        guard let stub = BSONDocument(storedBytes: stubBytes) else { return try readNow(s, at: at, blobs: blobs) }
        let checksum: UInt32? = s.isNull(at + 6) ? nil : UInt32(truncatingIfNeeded: s.int64(at + 6))
        let total = head.count + ref.length + tail.count
        let document = DeferredDocument(byteCount: total, payloadBytes: ref.length) { destination in
            try assemble(into: destination, head: head, ref: ref, tail: tail, checksum: checksum, blobs: blobs)
        }
        return (stub, document)
    }

    /// Copies `head`, reads the payload into its place, copies `tail`, then checks the CRC-32C of the
    /// whole document as it now lies in `destination`.
    static func assemble(
        into destination: UnsafeMutableRawBufferPointer, head: [UInt8], ref: BlobRef, tail: [UInt8], checksum: UInt32?,
        blobs: BlobStore
    ) throws {
        guard let base = destination.baseAddress, destination.count == head.count + ref.length + tail.count else {
            throw StorageError(.internalError, "chunk assembled into a buffer of the wrong size")
        }
        head.withUnsafeBytes { if let from = $0.baseAddress { base.copyMemory(from: from, byteCount: $0.count) } }
        let payload = UnsafeMutableRawBufferPointer(rebasing: destination[head.count..<head.count + ref.length])
        do {
            try BlockingExecutor.blocking { try blobs.read(ref, into: payload) }
        } catch {
            payload.initializeMemory(as: UInt8.self, repeating: 0)
            throw PayloadChecksum.unreadable(Array(destination), reason: "\(error)")
        }
        tail.withUnsafeBytes { if let from = $0.baseAddress { (base + head.count + ref.length).copyMemory(from: from, byteCount: $0.count) } }
        guard let checksum else { return }
        let actual = PayloadChecksum.compute(UnsafeRawBufferPointer(destination))
        if actual != checksum { throw PayloadChecksum.mismatch(Array(destination), expected: checksum, actual: actual) }
    }

    /// A row read and verified now (inline payloads, other layouts).
    private static func readNow(_ s: SQLiteStatement, at: Int32, blobs: BlobStore) throws -> (BSONDocument, DeferredDocument)? {
        guard let doc = try StoredDocument.read(s, at: at, blobs: blobs) else { return nil }
        let payload = doc.element(forKey: "data")?.binaryPayloadRange?.count ?? 0
        return (doc, DeferredDocument(doc, payloadBytes: payload))
    }

    private static func int32(_ bytes: [UInt8], at offset: Int) -> Int32? {
        guard offset >= 0, offset + 4 <= bytes.count else { return nil }
        return Int32(bitPattern: UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8
                     | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24)
    }

    private static func setInt32(_ bytes: inout [UInt8], _ value: Int32, at offset: Int) {
        let v = UInt32(bitPattern: value)
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
    }
}

extension QueryState {
    /// Whether this query's batches may be deferred: a GridFS chunks collection, and a filter that
    /// looks only at `_id`, `files_id` and `n` (the stand-in documents lack the payload).
    var canDefer: Bool {
        entry.kind == .gridFSChunks && progress.filter.document.keys.allSatisfy { DeferredChunks.filterFields.contains($0) }
    }

    /// ``next(_:maxCount:maxBytes:)`` as deferred documents (counted at their real sizes).
    mutating func nextDeferred(_ c: SQLiteConnection, maxCount: Int, maxBytes: Int) throws -> [DeferredDocument] {
        let slot = DeferredChunks.Slot()
        let records = DeferredChunks.Records(c: c, entry: entry, blobs: blobs, slot: slot)
        return try progress.next(records, maxCount: maxCount, maxBytes: maxBytes) { _, _ in
            guard let document = slot.current else {
                throw StorageError(.internalError, "deferred chunk read lost its row")
            }
            slot.current = nil
            return (document, document.byteCount)
        }
    }
}
