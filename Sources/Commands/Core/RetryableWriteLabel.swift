import BSON

/// The `RetryableWriteError` label mongod adds to a failed retryable write: a write command
/// (`insert`, `update`, `delete`, `findAndModify`) sent with a `txnNumber` outside a transaction
/// whose error is one drivers may retry (network-like codes such as 6 HostUnreachable, which the
/// PostgreSQL engine reports while the database is unreachable). Drivers with wire version 9 and
/// later retry a write only when the server put this label on it.
public enum RetryableWriteLabel {
    /// The codes of mongod's `isRetryableError` that gridlite can produce or pass on.
    static let retryableCodes: Set<Int32> = [6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]

    static let writeCommands: Set<String> = ["insert", "update", "delete", "findAndModify", "findandmodify"]

    /// Adds the label to an error reply when mongod would (and the reply has no labels yet).
    public static func apply(to reply: inout BSONDocument, request: CommandRequest, code: Int32) {
        guard retryableCodes.contains(code), writeCommands.contains(request.name),
              request.body["txnNumber"] != nil, request.body["startTransaction"] == nil, request.body["autocommit"] == nil,
              reply["errorLabels"] == nil else { return }
        reply.append("errorLabels", .array([.string("RetryableWriteError")]))
    }
}
