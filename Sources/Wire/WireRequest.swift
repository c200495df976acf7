/// A request from a client, as the server dispatches it.
public enum WireRequest: Sendable, Hashable {
    /// An OP_MSG; answer with an OP_MSG reply unless ``OpMsg/moreToCome`` is set.
    case msg(OpMsg)
    /// An OP_QUERY; answer with an OP_REPLY.
    case query(OpQuery)
    /// A well-framed OP_MSG or OP_QUERY whose contents are refused (a document that fails BSON
    /// validation, a legacy command that is not a command): answer with an error, keep the
    /// connection, as mongod does. Framing faults still throw and close the connection.
    case rejected(Rejection)
    /// Any other opcode (OP_REPLY from a client, removed legacy opcodes, unknown; an OP_COMPRESSED
    /// that reaches the parser, i.e. one the server did not inflate first with `Compression`).
    case unsupported(opCode: Int32)

    /// Parses the message in `frame` according to its opcode.
    ///
    /// Throws ``WireProtocolError`` when an OP_MSG or OP_QUERY is malformed as a frame; other
    /// opcodes are not looked into and come back as ``unsupported(opCode:)``.
    public static func parse(_ frame: WireFrame) throws(WireProtocolError) -> WireRequest {
        switch frame.header.opCode {
        case .msg:
            do {
                return .msg(try OpMsg(frame: frame))
            } catch {
                guard error.kind == .invalidBSON else { throw error }
                let flags = frame.body.getInteger(at: frame.body.readerIndex, endianness: .little, as: UInt32.self) ?? 0
                return .rejected(Rejection(error, legacy: false, moreToCome: OpMsg.Flags(rawValue: flags).contains(.moreToCome)))
            }
        case .query:
            do {
                let query = try OpQuery(frame: frame)
                if query.isCommand { _ = try query.command() }
                return .query(query)
            } catch {
                switch error.kind {
                case .invalidBSON: return .rejected(Rejection(error, legacy: true, moreToCome: false))
                case .invalidCommand:
                    return .rejected(Rejection(error, legacy: true, moreToCome: false, code: 9, codeName: "FailedToParse"))
                default: throw error
                }
            }
        case .reply, .compressed, .unknown: return .unsupported(opCode: frame.header.opCode.rawValue)
        }
    }
}

/// Why a well-framed request is refused, and how to answer it.
public struct Rejection: Sendable, Hashable {
    /// The MongoDB error code of the reply (22 `InvalidBSON` for documents that fail validation).
    public let code: Int32
    /// The code name of the reply.
    public let codeName: String
    /// The problem, for the reply's `errmsg` and the log.
    public let error: WireProtocolError
    /// True for an OP_QUERY (answered with an OP_REPLY), false for an OP_MSG.
    public let legacy: Bool
    /// True when the OP_MSG asked for no reply.
    public let moreToCome: Bool

    /// Creates a rejection.
    public init(_ error: WireProtocolError, legacy: Bool, moreToCome: Bool, code: Int32 = 22, codeName: String = "InvalidBSON") {
        self.error = error
        self.legacy = legacy
        self.moreToCome = moreToCome
        self.code = code
        self.codeName = codeName
    }
}
