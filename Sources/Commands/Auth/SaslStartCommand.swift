import BSON

/// `saslStart`: the client-first message of SCRAM-SHA-256 or SCRAM-SHA-1 for the user of `$db`;
/// answers server-first (`r=…,s=…,i=…`) and keeps the conversation in the connection's session.
public enum SaslStartCommand: CommandHandler {
    public static let names = ["saslStart"]
    public static let help = "Starts a SCRAM authentication conversation."
    public static let parameters = ParameterSpec(
        required: ["mechanism", "payload"], optional: ["options", "autoAuthorize"])

    public static func outcome(_ request: CommandRequest, context: CommandContext) async throws -> CommandOutcome {
        guard let mechanism = try request.string("mechanism") else { throw CommandError.missingField("mechanism", in: "saslStart") }
        let skip = try request.document("options")?["skipEmptyExchange"]?.isTruthy ?? false
        let step = try await SASLExchange.start(
            mechanism: mechanism, payload: try SASLExchange.payload(request.body["payload"]), db: request.database,
            skipEmptyExchange: skip, context: context)
        return CommandOutcome(reply: step.reply, sessionChanges: [step.change])
    }

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        try await outcome(request, context: context).reply
    }
}
