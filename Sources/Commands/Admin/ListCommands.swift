import BSON

/// `listCommands`: every command gridlite answers, with a line of help each.
public enum ListCommandsCommand: CommandHandler {
    public static let names = ["listCommands"]
    public static let help = "Lists the commands the server supports."
    public static let parameters = ParameterSpec.lenient

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        var commands = BSONDocument()
        let testCommands = context.environment.testCommandsEnabled
        let entries = CommandTable.all.filter { testCommands || !$0.testOnly }
            .flatMap { h in h.names.map { ($0, h) } }.sorted { $0.0 < $1.0 }
        for (name, h) in entries {
            commands.append(name, .document([
                "help": .string(h.help),
                "adminOnly": .bool(h.adminOnly),
                "requiresAuth": .bool(false),
                "secondaryOk": .bool(true),
            ]))
        }
        return ["commands": .document(commands)]
    }
}
