import BSON

/// Keeps secrets out of `currentOp` and the logs: the SASL payloads, passwords and speculative
/// authentication documents of the commands that carry them are replaced by `"###"` (mongod's
/// redaction marker) wherever a command body is shown.
public enum AuthRedaction {
    /// Commands whose bodies carry credentials.
    static let sensitive: Set<String> = [
        "saslStart", "saslContinue", "authenticate", "createUser", "updateUser", "copydbsaslstart",
    ]
    /// Fields that are replaced.
    static let secretFields: Set<String> = ["payload", "pwd", "speculativeAuthenticate", "key", "nonce"]

    /// The body to show for `request`: unchanged for ordinary commands.
    public static func body(of request: CommandRequest) -> BSONDocument {
        let isHello = request.name == "hello" || request.name == "isMaster" || request.name == "ismaster"
        guard sensitive.contains(request.name) || (isHello && request.body.contains("speculativeAuthenticate")) else {
            return request.body
        }
        var out = BSONDocument()
        for (key, value) in request.body {
            out.append(key, secretFields.contains(key) ? .string("###") : value)
        }
        return out
    }
}
