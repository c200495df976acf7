import ArgumentParser
import Commands
import Logging
import Storage

/// `gridlite serve --auth`: SCRAM authentication and role-based authorization (off by default, as mongod).
struct AuthOptions: ParsableArguments {
    @Flag(name: .customLong("auth"),
          help: "Require SCRAM authentication; commands are checked against the user's built-in roles.")
    var enabled = false

    /// The shared authentication set-up for the server environment.
    func makeServerAuth() -> ServerAuth { ServerAuth(enabled: enabled) }

    /// The HTTP gateway's Basic-credential check against the same users (nil without `--auth`).
    func httpVerifier(_ auth: ServerAuth, storage: any StorageEngine) -> HTTPUserVerifier? {
        enabled ? HTTPUserVerifier(auth: auth, storage: storage) : nil
    }

    /// The start-up line that says whether clients must authenticate.
    func logStartup(host: String, logger: Logger) {
        if enabled {
            logger.info("authorization enabled (--auth): clients must authenticate (SCRAM-SHA-256, SCRAM-SHA-1)")
        } else if Self.isLoopback(host) {
            logger.info("authorization disabled: any client that can reach \(host) may read and write every database (start with --auth to require users)")
        } else {
            logger.warning("authorization disabled while listening on \(host), beyond the loopback interface: anyone who can reach the port may read, overwrite and delete every file (start with --auth)")
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
