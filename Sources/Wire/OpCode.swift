/// The operation code in a message header.
///
/// Only the opcodes this server has to tell apart get a case; every other value is kept as
/// ``unknown(_:)`` so it can be reported back exactly.
public enum OpCode: Sendable, Hashable, CustomStringConvertible {
    /// OP_REPLY (1): the legacy reply to OP_QUERY.
    case reply
    /// OP_QUERY (2004): legacy query, still used by some drivers for the first handshake.
    case query
    /// OP_COMPRESSED (2012): a compressed wrapper around another message.
    case compressed
    /// OP_MSG (2013): the modern extensible message.
    case msg
    /// Any other opcode, with its raw value.
    case unknown(Int32)

    /// Maps a raw header value to an opcode.
    public init(rawValue: Int32) {
        switch rawValue {
        case 1: self = .reply
        case 2004: self = .query
        case 2012: self = .compressed
        case 2013: self = .msg
        default: self = .unknown(rawValue)
        }
    }

    /// The value written in a message header.
    public var rawValue: Int32 {
        switch self {
        case .reply: 1
        case .query: 2004
        case .compressed: 2012
        case .msg: 2013
        case .unknown(let value): value
        }
    }

    /// The specification's name, e.g. `OP_MSG`, or `opcode <n>` for unknown values.
    public var description: String {
        switch self {
        case .reply: "OP_REPLY"
        case .query: "OP_QUERY"
        case .compressed: "OP_COMPRESSED"
        case .msg: "OP_MSG"
        case .unknown(let value): "opcode \(value)"
        }
    }
}
