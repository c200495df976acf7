import BSON

/// `saslContinue`: the client-final message (proof), answered with the server signature; with
/// `skipEmptyExchange` (or on the extra empty round trip) the conversation ends `done: true` and
/// the user is authenticated on this connection.
public enum SaslContinueCommand: CommandHandler {
    public static let names = ["saslContinue"]
    public static let help = "Continues a SCRAM authentication conversation."
    public static let parameters = ParameterSpec(required: ["conversationId", "payload"])

    public static func outcome(_ request: CommandRequest, context: CommandContext) async throws -> CommandOutcome {
        let id = try request.int("conversationId").map { Int32(clamping: $0) }
        let step = try await SASLExchange.proceed(
            conversationId: id, payload: try SASLExchange.payload(request.body["payload"]), context: context)
        return CommandOutcome(reply: step.reply, sessionChanges: [step.change])
    }

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        try await outcome(request, context: context).reply
    }
}
