import BSON

/// `whatsmyuri`: the client's own address as the server sees it.
public enum WhatsMyURICommand: CommandHandler {
    public static let names = ["whatsmyuri"]
    public static let help = "Reports the client's address."
    public static let parameters = ParameterSpec.lenient

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        ["you": .string(context.connection.remoteAddress)]
    }
}
