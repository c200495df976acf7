import BSON

/// `logout`: forgets who is authenticated on this connection (any conversation too).
public enum LogoutCommand: CommandHandler {
    public static let names = ["logout"]
    public static let help = "Logs the connection's users out."
    public static let parameters = ParameterSpec.lenient

    public static func outcome(_ request: CommandRequest, context: CommandContext) async throws -> CommandOutcome {
        CommandOutcome(reply: BSONDocument(), sessionChanges: [.authentication(.unauthenticated)])
    }

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        BSONDocument()
    }
}
