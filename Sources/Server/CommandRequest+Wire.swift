import BSON
import Commands
import Wire

extension CommandRequest {
    /// The request an OP_MSG carries: its body, its kind-1 document sequences by identifier (the
    /// decoder already refused an identifier sent twice), and its `$db` (required: 40571 when absent,
    /// 13111 when not a string). Shared by ``Connection`` and the fuzz harness, so both build
    /// requests the same way.
    public init(message: OpMsg) throws(CommandError) {
        var sequences: [String: [BSONDocument]] = [:]
        for sequence in message.documentSequences {
            sequences[sequence.identifier] = sequence.documents
        }
        let database = try CommandRequest.opMsgDatabase(message.body)
        try self.init(body: message.body, sequences: sequences, database: database)
    }

    /// The request an OP_QUERY command (`<db>.$cmd`) carries.
    public init(query command: OpQuery.Command) throws(CommandError) {
        try self.init(body: command.document, database: command.database)
    }
}
