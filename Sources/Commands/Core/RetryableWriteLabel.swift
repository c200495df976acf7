import BSON

/// The `RetryableWriteError` label mongod adds to any failed retryable write, not only to the
/// fail point's: a write command with `txnNumber` whose error has a code the retryable-writes spec
/// lists (6 HostUnreachable among them, which the PostgreSQL engine reports while its database is
/// unreachable). The rule is ``FailCommandAction/defaultLabels(_:_:)``'s; a reply that already
/// has labels (a fail point's `errorLabels`) keeps them.
public enum RetryableWriteLabel {
    /// Adds the label to an error reply when mongod would.
    public static func apply(to reply: inout BSONDocument, request: CommandRequest, code: Int32) {
        guard reply["errorLabels"] == nil, let labels = FailCommandAction.defaultLabels(code, request) else { return }
        reply.append("errorLabels", .array(labels))
    }
}
