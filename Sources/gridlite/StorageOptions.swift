import ArgumentParser
import Foundation
import Logging
import PostgresStorage
import Storage

/// `--storage`: where the documents live. Default: the embedded SQLite engine in `--data-dir`;
/// `postgresql://user:password@host:port/database` selects the PostgreSQL engine (several
/// daemons may share one database, and no local state is needed). `GRIDLITE_STORAGE` gives the
/// same value from the environment; the option wins.
struct StorageOptions: ParsableArguments {
    @Option(name: .customLong("storage"),
            help: "sqlite (default, in --data-dir) or a postgresql://user:password@host:port/database URL (also GRIDLITE_STORAGE).")
    var storage: String?

    /// The chosen value (option, then environment), nil for the default.
    var value: String? {
        let chosen = storage ?? ProcessInfo.processInfo.environment["GRIDLITE_STORAGE"]
        guard let chosen, !chosen.isEmpty, chosen.lowercased() != "sqlite" else { return nil }
        return chosen
    }

    /// The PostgreSQL URL when one was chosen; exits with a one-line error for any other value.
    func postgresURL() -> PostgresURL? {
        guard let value else { return nil }
        guard PostgresURL.isPostgresURL(value) else {
            Serve.fail("--storage must be 'sqlite' or a postgresql:// URL")
        }
        do {
            return try PostgresURL(value)
        } catch {
            Serve.fail("--storage: \(error)")
        }
    }

    /// Opens the PostgreSQL engine, or exits naming what is wrong (unreachable, authentication,
    /// missing database, schema version) in one line.
    static func openPostgres(_ url: PostgresURL, logger: Logger) async -> PostgresStorageEngine {
        logger.info("gridlite \(Gridlite.version) starting: pid \(getpid()), storage \(url.redacted) (no data directory used)")
        do {
            return try await PostgresStorageEngine.open(url: url, logger: logger)
        } catch {
            Serve.fail("cannot open the storage: \(error)")
        }
    }
}
