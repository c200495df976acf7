import ArgumentParser
import Commands
import Foundation
import Logging
import SQLiteStorage

/// `gridlite users add|list|remove --data-dir D`: manage users offline (for example the first user
/// of a daemon started with `--auth`). Takes the data directory's lock, so it refuses to run while
/// a daemon holds that directory. Passwords come from `--password-file`, or standard input (a
/// prompt without echo on a terminal), never from the command line.
struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add, list or remove users of a data directory (while no daemon runs on it).",
        subcommands: [Add.self, List.self, Remove.self])

    struct DataDir: ParsableArguments {
        @Option(name: .customLong("data-dir"), help: "The data directory.")
        var dataDir: String = "./gridlite-data"
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user with SCRAM-SHA-256 and SCRAM-SHA-1 credentials.")
        @OptionGroup var location: DataDir
        @Option(help: "The user name.") var user: String
        @Option(help: "The authentication database.") var db: String = "admin"
        @Option(name: .customLong("password-file"), help: "A file whose first line is the password (default: standard input).")
        var passwordFile: String?
        @Option(name: .customLong("role"), help: "A role, as ROLE (on --db) or ROLE@DB; repeatable (e.g. --role root).")
        var roles: [String] = []
        @Option(name: .customLong("mechanism"), help: "SCRAM-SHA-256 or SCRAM-SHA-1; repeatable (default both).")
        var mechanisms: [String] = []

        func run() async throws {
            let password = try Users.readPassword(file: passwordFile)
            try await Users.withStorage(location.dataDir) { storage in
                try await UserAdministration.add(
                    user: user, db: db, password: password, roles: roles, mechanisms: mechanisms, storage: storage)
            }
            print("created user \(db).\(user)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users (never their credentials).")
        @OptionGroup var location: DataDir

        func run() async throws {
            let lines = try await Users.withStorage(location.dataDir) { try await UserAdministration.list(storage: $0) }
            for line in lines { print(line) }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a user.")
        @OptionGroup var location: DataDir
        @Option(help: "The user name.") var user: String
        @Option(help: "The authentication database.") var db: String = "admin"

        func run() async throws {
            let removed = try await Users.withStorage(location.dataDir) {
                try await UserAdministration.remove(user: user, db: db, storage: $0)
            }
            guard removed else { Serve.fail("no user \(db).\(user)") }
            print("removed user \(db).\(user)")
        }
    }

    /// Opens the store under the data directory's lock, runs `body`, closes cleanly. Errors are one
    /// line and exit status 1.
    static func withStorage<T: Sendable>(_ dataDir: String, _ body: (SQLiteStorageEngine) async throws -> T) async throws -> T {
        let path = URL(fileURLWithPath: dataDir).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            Serve.fail("cannot use data directory \(path): no such directory")
        }
        let lock: DataDirectoryLock
        do {
            lock = try DataDirectoryLock.acquire(directory: path)
        } catch {
            Serve.fail("\(error)")
        }
        var logger = Logger(label: "gridlite-users")
        logger.logLevel = .warning
        let storage: SQLiteStorageEngine
        do {
            storage = try await SQLiteStorageEngine.open(directory: path, logger: logger)
        } catch {
            lock.release()
            Serve.fail("cannot open the database in \(path): \(Serve.describe(error))")
        }
        do {
            let result = try await body(storage)
            await storage.close()
            lock.release()
            return result
        } catch {
            await storage.close()
            lock.release()
            Serve.fail("\(CommandDispatcher.describe(error).2)")
        }
    }

    /// The password: the first line of `file`, or of standard input (prompted without echo on a terminal).
    static func readPassword(file: String?) throws -> String {
        let text: String
        if let file {
            guard let data = FileManager.default.contents(atPath: file), let s = String(data: data, encoding: .utf8) else {
                Serve.fail("cannot read the password file \(file)")
            }
            text = s
        } else if isatty(STDIN_FILENO) == 1 {
            guard let entered = getpass("password: ") else { Serve.fail("no password entered") }
            text = String(cString: entered)
        } else {
            text = readLine(strippingNewline: true) ?? ""
        }
        let password = String(text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
            .trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
        guard !password.isEmpty else { Serve.fail("the password is empty") }
        return password
    }
}
