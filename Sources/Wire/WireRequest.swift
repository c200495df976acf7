/// A request from a client, as the server dispatches it.
public enum WireRequest: Sendable, Hashable {
    /// An OP_MSG; answer with an OP_MSG reply unless ``OpMsg/moreToCome`` is set.
    case msg(OpMsg)
    /// An OP_QUERY; answer with an OP_REPLY.
    case query(OpQuery)
    /// Any other opcode (OP_COMPRESSED, OP_REPLY from a client, removed legacy opcodes, unknown).
    case unsupported(opCode: Int32)

    /// Parses the message in `frame` according to its opcode.
    ///
    /// Throws ``WireProtocolError`` when an OP_MSG or OP_QUERY is malformed; other opcodes are
    /// not looked into and come back as ``unsupported(opCode:)``.
    public static func parse(_ frame: WireFrame) throws(WireProtocolError) -> WireRequest {
        switch frame.header.opCode {
        case .msg: .msg(try OpMsg(frame: frame))
        case .query: .query(try OpQuery(frame: frame))
        case .reply, .compressed, .unknown: .unsupported(opCode: frame.header.opCode.rawValue)
        }
    }
}
