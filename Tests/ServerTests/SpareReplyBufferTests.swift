import NIOCore
@testable import Server
import Testing

/// The reused outbound buffer of download replies: reused only when nothing else holds it.
struct SpareReplyBufferTests {
    private let allocator = ByteBufferAllocator()

    private func address(_ buffer: ByteBuffer) -> UInt? {
        buffer.withUnsafeReadableBytes { raw in raw.baseAddress.map { UInt(bitPattern: $0) } }
    }

    @Test func aBufferNoOneElseHoldsIsReusedWithItsPages() {
        let spare = SpareReplyBuffer()
        var first = spare.take(capacity: 2 << 20, allocator: allocator)
        first.writeRepeatingByte(7, count: 2 << 20)
        let where1 = address(first)
        spare.keep(first)
        first = ByteBuffer()  // the write that sent it is done
        var second = spare.take(capacity: 1 << 20, allocator: allocator)
        #expect(second.readableBytes == 0)
        second.writeRepeatingByte(9, count: 1 << 20)
        #expect(address(second) == where1)
        #expect(!spare.isHolding)
    }

    @Test func aBufferStillBeingWrittenIsNeverOverwritten() {
        let spare = SpareReplyBuffer()
        var sent = spare.take(capacity: 2 << 20, allocator: allocator)
        sent.writeRepeatingByte(7, count: 2 << 20)
        spare.keep(sent)
        // `sent` is still held (NIO has not written it out yet).
        var next = spare.take(capacity: 2 << 20, allocator: allocator)
        next.writeRepeatingByte(9, count: 2 << 20)
        #expect(address(next) != address(sent))
        #expect(sent.getBytes(at: 0, length: 64) == [UInt8](repeating: 7, count: 64))
        #expect(sent.getBytes(at: (2 << 20) - 64, length: 64) == [UInt8](repeating: 7, count: 64))
    }

    @Test func smallTooSmallAndDroppedBuffersAreNotKept() {
        let spare = SpareReplyBuffer()
        spare.keep(allocator.buffer(capacity: 4096))
        #expect(!spare.isHolding)
        var big = allocator.buffer(capacity: 2 << 20)
        big.writeRepeatingByte(1, count: 16)
        spare.keep(big)
        #expect(spare.isHolding)
        spare.drop()
        #expect(!spare.isHolding)
        spare.keep(big)
        big = ByteBuffer()
        // A request larger than the kept buffer gets a new one (growing would copy the old bytes).
        let larger = spare.take(capacity: 4 << 20, allocator: allocator)
        #expect(larger.capacity >= 4 << 20)
        #expect(!spare.isHolding)
    }
}
