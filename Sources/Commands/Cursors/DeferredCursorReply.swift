import BSON
import Storage

/// A cursor reply whose batch is a ``DeferredBatch``: the reply document as the dispatcher completed
/// it (`{cursor: {firstBatch|nextBatch: [], id, ns}, ok: 1, …}`, the batch array empty and first in
/// `cursor`, `cursor` first in the reply), split around the empty array so that a front end can write
/// `prefix`, then each document as an array element (``elementHeader(_:)`` + the document written in
/// place by ``DeferredDocument/write(into:)``), then a zero byte, then `suffix`. The lengths in
/// `prefix` already count the batch. Knows no buffers or opcodes.
public struct DeferredCursorReply: Sendable {
    /// The documents of the batch.
    public let batch: DeferredBatch
    /// The reply's bytes up to the batch array's elements, with the reply's, `cursor`'s and the
    /// array's lengths grown by the batch.
    public let prefix: [UInt8]
    /// The reply's bytes after the batch array.
    public let suffix: ArraySlice<UInt8>
    /// The whole reply document's size.
    public let byteCount: Int

    /// Splits `reply` around its empty batch array; nil when it is not laid out as
    /// ``CursorBatch/reply(_:id:namespace:first:)`` lays it out, or would pass 2 GiB.
    public init?(reply: BSONDocument, batch: DeferredBatch) {
        let b = reply.bytes
        let cursorKey = Array("cursor".utf8) + [0]
        guard b.count > 12, b[4] == BSONType.document.rawValue, Array(b[5..<12]) == cursorKey else { return nil }
        let arrayKeyAt = 17
        guard b.count > arrayKeyAt, b[16] == BSONType.array.rawValue,
              let keyEnd = b[arrayKeyAt...].firstIndex(of: 0) else { return nil }
        let key = String(decoding: b[arrayKeyAt..<keyEnd], as: UTF8.self)
        let arrayAt = keyEnd + 1
        guard key == "firstBatch" || key == "nextBatch", arrayAt + 5 <= b.count,
              Array(b[arrayAt..<arrayAt + 5]) == [5, 0, 0, 0, 0] else { return nil }
        var elements = 0
        for (index, document) in batch.documents.enumerated() {
            elements &+= DeferredCursorReply.elementHeader(index).count &+ document.byteCount
        }
        let arrayLength = 4 + elements + 1
        let growth = arrayLength - 5
        guard elements >= 0, b.count + growth <= Int(Int32.max),
              let cursorLength = DeferredCursorReply.int32(b, 12) else { return nil }
        var prefix = Array(b[0..<arrayAt])
        DeferredCursorReply.setInt32(&prefix, 0, b.count + growth)
        DeferredCursorReply.setInt32(&prefix, 12, Int(cursorLength) + growth)
        prefix.append(contentsOf: [0, 0, 0, 0])
        DeferredCursorReply.setInt32(&prefix, arrayAt, arrayLength)
        self.batch = batch
        self.prefix = prefix
        self.suffix = b[(arrayAt + 5)...]
        self.byteCount = b.count + growth
    }

    /// The bytes before array element `index`'s document: the document type byte and the key.
    public static func elementHeader(_ index: Int) -> [UInt8] {
        [BSONType.document.rawValue] + Array(String(index).utf8) + [0]
    }

    /// The whole reply as one document (one copy of every document; for replies that are not
    /// written by a front end that splices, e.g. OP_REPLY and in-process callers). Throws what
    /// assembling a document throws (301 when stored bytes fail their checksum).
    public func materialize() throws -> BSONDocument {
        var out = prefix
        out.reserveCapacity(byteCount)
        for (index, document) in batch.documents.enumerated() {
            out.append(contentsOf: DeferredCursorReply.elementHeader(index))
            out.append(contentsOf: try document.materialize().bytes)
        }
        out.append(0)
        out.append(contentsOf: suffix)
        guard out.count == byteCount, let reply = BSONDocument(storedBytes: out) else {
            throw CommandError(.internalError, "a deferred cursor reply did not assemble")
        }
        return reply
    }

    private static func int32(_ b: [UInt8], _ at: Int) -> Int32? {
        guard at >= 0, at + 4 <= b.count else { return nil }
        return Int32(bitPattern: UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24)
    }

    private static func setInt32(_ b: inout [UInt8], _ at: Int, _ value: Int) {
        let v = UInt32(truncatingIfNeeded: value)
        for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
    }
}

extension CommandOutcome {
    /// The reply with its deferred batch (if any) spliced in: the reply as a document.
    public func fullReply() throws -> BSONDocument {
        guard let batch = deferredBatch else { return reply }
        guard let splice = DeferredCursorReply(reply: reply, batch: batch) else {
            throw CommandError(.internalError, "a deferred cursor reply is not laid out as a cursor reply")
        }
        return try splice.materialize()
    }
}
