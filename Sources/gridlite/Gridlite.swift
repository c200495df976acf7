import ArgumentParser

/// The `gridlite` command: a MongoDB-wire-compatible GridFS server over SQLite.
@main
struct Gridlite: AsyncParsableCommand {
    /// gridlite's release version.
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "gridlite",
        abstract: "A MongoDB-wire-protocol server that keeps GridFS buckets in SQLite.",
        version: version,
        subcommands: [Serve.self, Users.self, FsckCommand.self, BackupCommand.self, RestoreCommand.self,
                      StatsCommand.self, LsCommand.self, GetCommand.self, PutCommand.self, ExportCommand.self, ImportCommand.self],
        defaultSubcommand: nil
    )

    /// Runs the command line, with `serve` options from `GRIDLITE_*` variables (EnvironmentOptions.swift).
    static func main() async { await EnvironmentOptions.main() }
}
