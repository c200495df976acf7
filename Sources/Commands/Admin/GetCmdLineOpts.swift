import BSON

/// `getCmdLineOpts`: the daemon's command line and the options it parsed from it.
public enum GetCmdLineOptsCommand: CommandHandler {
    public static let names = ["getCmdLineOpts"]
    public static let help = "Reports the command line the server was started with."
    public static let parameters = ParameterSpec.lenient
    public static let adminOnly = true

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        [
            "argv": .array(context.environment.argv.map { .string($0) }),
            "parsed": .document(context.environment.parsedOptions),
        ]
    }
}
