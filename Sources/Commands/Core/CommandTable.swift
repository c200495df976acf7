/// The dispatch table: every command handler, sorted by canonical name. A test checks the order
/// and that no name is claimed twice.
public enum CommandTable {
    /// All handlers, sorted by their first name.
    public static let all: [any CommandHandler.Type] = [
        BuildInfoCommand.self,
        CollStatsCommand.self,
        ConnectionStatusCommand.self,
        CountCommand.self,
        CreateCommand.self,
        CreateIndexesCommand.self,
        DbStatsCommand.self,
        DeleteCommand.self,
        DistinctCommand.self,
        DropCommand.self,
        DropDatabaseCommand.self,
        DropIndexesCommand.self,
        EndSessionsCommand.self,
        FindCommand.self,
        GetCmdLineOptsCommand.self,
        GetLastErrorCommand.self,
        GetMoreCommand.self,
        GetParameterCommand.self,
        HelloCommand.self,
        HostInfoCommand.self,
        InsertCommand.self,
        KillCursorsCommand.self,
        ListCollectionsCommand.self,
        ListCommandsCommand.self,
        ListDatabasesCommand.self,
        ListIndexesCommand.self,
        PingCommand.self,
        RenameCollectionCommand.self,
        ServerStatusCommand.self,
        UpdateCommand.self,
        ValidateCommand.self,
        WhatsMyURICommand.self,
    ]
}
