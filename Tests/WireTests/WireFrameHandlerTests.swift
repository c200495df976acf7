import NIOCore
import NIOEmbedded
import Testing
import Wire

@Suite struct WireFrameHandlerLimitsTests {
    static func ping(_ requestID: Int32, flags: UInt32 = 0, padding: Int = 0) -> ByteBuffer {
        // OP_MSG with a kind-0 body {a: "<padding>"}; only the frame layer looks at it here.
        var doc = ByteBuffer()
        let text = String(repeating: "x", count: padding)
        doc.writeInteger(Int32(4 + 1 + 2 + 4 + text.utf8.count + 1 + 1), endianness: .little)
        doc.writeInteger(UInt8(2)); doc.writeString("a"); doc.writeInteger(UInt8(0))
        doc.writeInteger(Int32(text.utf8.count + 1), endianness: .little)
        doc.writeString(text); doc.writeInteger(UInt8(0)); doc.writeInteger(UInt8(0))
        var body = ByteBuffer()
        body.writeInteger(flags, endianness: .little)
        body.writeInteger(UInt8(0))
        body.writeBuffer(&doc)
        var out = ByteBuffer()
        WireFrame(requestID: requestID, responseTo: 0, opCode: .msg, body: body).write(to: &out)
        return out
    }

    @Test func holdsTheBudgetUntilTheReplyIsWritten() throws {
        let budget = IncomingByteBudget(limit: 1 << 20)
        let channel = EmbeddedChannel(handler: WireFrameHandler(limits: .init(budget: budget)))
        let message = Self.ping(1)
        try channel.writeInbound(message)
        let frame = try channel.readInbound(as: WireFrame.self)
        #expect(frame?.header.requestID == 1)
        #expect(budget.bytesInUse == WireFrameHandler.cost(ofFrame: message.readableBytes))
        try channel.writeOutbound(ByteBuffer(string: "reply"))
        #expect(budget.bytesInUse == 0)
        _ = try channel.finish()
    }

    @Test func aFrameExpectingNoReplyCarriesItsReservation() throws {
        let budget = IncomingByteBudget(limit: 1 << 20)
        let channel = EmbeddedChannel(handler: WireFrameHandler(limits: .init(budget: budget)))
        try channel.writeInbound(Self.ping(2, flags: 2))  // moreToCome
        var frame = try #require(try channel.readInbound(as: WireFrame.self))
        #expect(frame.expectsNoReply)
        #expect(budget.bytesInUse > 0)
        frame.reservation = nil
        #expect(budget.bytesInUse == 0)
        _ = try channel.finish()
    }

    @Test func swallowsReadsWhileWaitingAndResumesWhenGranted() throws {
        let budget = IncomingByteBudget(limit: 1_000)
        let other = budget.charge(900)
        let channel = EmbeddedChannel(handler: WireFrameHandler(limits: .init(budget: budget)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 27017)).wait()
        let message = Self.ping(3, padding: 2_000)
        var head = message
        let first = head.readSlice(length: 100)
        try channel.writeInbound(try #require(first))
        #expect(budget.waitingReaders == 1)
        let reads = ReadCounter()
        try channel.pipeline.syncOperations.addHandler(reads, position: .first)
        channel.read()
        #expect(reads.count == 0, "read() must not reach the socket while waiting")
        other.release()
        channel.embeddedEventLoop.run()
        #expect(reads.count == 1, "the held read goes out once the budget grants the frame")
        try channel.writeInbound(head)
        let frame = try channel.readInbound(as: WireFrame.self)
        #expect(frame?.header.requestID == 3)
        _ = try channel.finish()
    }

    @Test func aStalledFrameFailsAfterTheReadDeadline() throws {
        let channel = EmbeddedChannel(handler: WireFrameHandler(limits: .init(frameReadTimeout: .seconds(60))))
        let message = Self.ping(4)
        try channel.writeInbound(message.getSlice(at: 0, length: 20))
        channel.embeddedEventLoop.advanceTime(by: .seconds(59))
        try channel.throwIfErrorCaught()
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(throws: WireProtocolError.self) { try channel.throwIfErrorCaught() }
        _ = try? channel.finish()
    }
}

/// Counts `read()` calls that reach the head of the pipeline.
final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = Any
    var count = 0
    func read(context: ChannelHandlerContext) {
        count += 1
        context.read()
    }
}
