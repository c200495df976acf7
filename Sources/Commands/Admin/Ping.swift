import BSON

/// `ping`: answers `{ok: 1}`; drivers use it to check a connection.
public enum PingCommand: CommandHandler {
    public static let names = ["ping"]
    public static let help = "Checks that the server answers."
    public static let parameters = ParameterSpec.lenient

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        BSONDocument()
    }
}
