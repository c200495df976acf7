import BSON
import NIOCore
import Wire

/// One connection: turns frames into commands and writes their replies.
final class CeilingHandler: ChannelInboundHandler {
    typealias InboundIn = WireFrame
    typealias OutboundOut = ByteBuffer

    private let commands: CeilingCommands
    private let connectionId: Int
    private var nextRequestId: Int32 = 1

    init(commands: CeilingCommands, connectionId: Int) {
        self.commands = commands
        self.connectionId = connectionId
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let replyId = nextRequestId
        nextRequestId &+= 1
        let buffer: ByteBuffer?
        do {
            buffer = try Self.answer(frame, commands: commands, connectionId: connectionId, replyId: replyId,
                                     allocator: context.channel.allocator)
        } catch {
            context.close(promise: nil)
            return
        }
        guard let buffer else { return }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    /// The reply to one frame (nil for a `moreToCome` request); throws when the connection must close.
    /// (Not inlined: inlined into an async caller it crashed the Swift 6.3.1 optimizer.)
    @inline(never)
    static func answer(_ frame: WireFrame, commands: CeilingCommands, connectionId: Int, replyId: Int32,
                       allocator: ByteBufferAllocator) throws -> ByteBuffer? {
        let requestId = frame.header.requestID
        var buffer = allocator.buffer(capacity: 512)
        switch try WireRequest.parse(frame) {
        case .msg(let message):
            let reply = commands.run(message.body, sequences: message.documentSequences, connectionId: connectionId)
            if message.moreToCome { return nil }
            switch reply {
            case .document(let document):
                OpMsg.writeReply(document, requestID: replyId, responseTo: requestId, to: &buffer)
            case .cursor(let key, let documents, let id, let ns):
                RawReply.writeCursor(batchKey: key, documents: documents, cursorId: id, ns: ns,
                                     requestID: replyId, responseTo: requestId, to: &buffer)
            }
        case .query(let query):
            let command = try query.command()
            let document: BSONDocument
            switch commands.run(command.document, sequences: [], connectionId: connectionId) {
            case .document(let reply): document = reply
            case .cursor: document = CeilingCommands.error(CeilingError("cursor commands need OP_MSG"))
            }
            OpReply(commandReply: document).write(requestID: replyId, responseTo: requestId, to: &buffer)
        case .rejected(let rejection):
            throw CeilingError("refused request: \(rejection.error)")
        case .unsupported(let opCode):
            throw CeilingError("unsupported opcode \(opCode)")
        }
        return buffer
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
