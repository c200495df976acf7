import BSON

/// `endSessions`, `killSessions`, `killAllSessions`, `refreshSessions`: drivers send these to
/// retire logical sessions. gridlite keeps no server-side session state (sessions only tag
/// commands), so there is nothing to end; they succeed as on a standalone mongod.
public enum EndSessionsCommand: CommandHandler {
    public static let names = ["endSessions", "killAllSessions", "killSessions", "refreshSessions"]
    public static let help = "Ends logical sessions (no server-side state to release)."
    public static let parameters = ParameterSpec.lenient

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        if request.name != "killAllSessions", let arg = request.argument {
            guard case .array = arg else {
                throw CommandError.wrongType(request.name, in: request.name, expected: "array", got: arg.type)
            }
        }
        return BSONDocument()
    }
}
