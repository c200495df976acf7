/// The dispatch table: every command handler, sorted by canonical name. A test checks the order
/// and that no name is claimed twice.
public enum CommandTable {
    /// All handlers, sorted by their first name.
    public static let all: [any CommandHandler.Type] = [
        AggregateCommand.self,
        BuildInfoCommand.self,
        ConnectionStatusCommand.self,
        EndSessionsCommand.self,
        FindAndModifyCommand.self,
        GetCmdLineOptsCommand.self,
        GetLastErrorCommand.self,
        GetParameterCommand.self,
        HelloCommand.self,
        HostInfoCommand.self,
        ListCommandsCommand.self,
        PingCommand.self,
        ServerStatusCommand.self,
        WhatsMyURICommand.self,
    ]
}
