import ArgumentParser
import Foundation
import Logging

/// Every `gridlite serve` option from the environment as well: `--data-dir` is `GRIDLITE_DATA_DIR`,
/// `--tlsMode` is `GRIDLITE_TLS_MODE` (the option's first long name in upper snake case). The
/// command line wins: a variable is ignored when its option is on the command line. A flag's
/// variable takes `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off`/empty.
///
/// The option list comes from ArgumentParser's own description of `Serve` (`_dumpHelp()`), so an
/// option added to `Serve` (or to one of its option groups) has its variable with no other change.
enum EnvironmentOptions {
    /// One serve option that can come from the environment.
    struct Entry: Equatable {
        /// The option's long names (the first is the preferred one), without dashes.
        let names: [String]
        /// A flag takes no value.
        let isFlag: Bool
        /// `GRIDLITE_<UPPER_SNAKE>`.
        var variable: String { "GRIDLITE_" + EnvironmentOptions.upperSnake(names[0]) }
    }

    /// What the environment added to a command line.
    struct Applied {
        /// The arguments each variable contributed, in the table's order.
        var contributions: [(variable: String, option: String, arguments: [String])] = []
        /// The command line with every contribution appended.
        var arguments: [String] = []
    }

    /// Serve's options (not `--help`), from ArgumentParser's JSON description of the command.
    static let entries: [Entry] = {
        struct Name: Decodable { let kind: String; let name: String }
        struct Argument: Decodable { let kind: String; let names: [Name]? }
        struct Command: Decodable { let arguments: [Argument]? }
        struct Tool: Decodable { let command: Command }
        guard let tool = try? JSONDecoder().decode(Tool.self, from: Data(Serve._dumpHelp().utf8)) else { return [] }
        return (tool.command.arguments ?? []).compactMap { argument in
            guard argument.kind == "option" || argument.kind == "flag" else { return nil }
            let longs = (argument.names ?? []).filter { $0.kind == "long" }.map(\.name)
            guard let first = longs.first, !["help", "version", "experimental-dump-help"].contains(first) else {
                return nil
            }
            return Entry(names: longs, isFlag: argument.kind == "flag")
        }
    }()

    /// `data-dir` → `DATA_DIR`, `maxConns` → `MAX_CONNS`, `tlsCAFile` → `TLS_CA_FILE`, `bind_ip` → `BIND_IP`.
    static func upperSnake(_ name: String) -> String {
        let characters = Array(name)
        var out = ""
        for (i, c) in characters.enumerated() {
            if c == "-" || c == "_" {
                out.append("_")
                continue
            }
            if c.isUppercase, i > 0 {
                let previous = characters[i - 1]
                let nextIsLower = i + 1 < characters.count && characters[i + 1].isLowercase
                if previous.isLowercase || previous.isNumber || (previous.isUppercase && nextIsLower) {
                    out.append("_")
                }
            }
            out.append(contentsOf: c.uppercased())
        }
        return out
    }

    /// The command line plus the serve options set in `environment` and absent from `arguments`.
    /// Only `serve` takes options from the environment.
    static func apply(to arguments: [String], environment: [String: String]) throws(EnvironmentError) -> Applied {
        var applied = Applied(arguments: arguments)
        guard arguments.first == "serve" else { return applied }
        for entry in entries {
            guard let value = environment[entry.variable] else { continue }
            let given = arguments.contains { argument in
                entry.names.contains { argument == "--\($0)" || argument.hasPrefix("--\($0)=") }
            }
            if given { continue }
            let option = "--\(entry.names[0])"
            var contributed: [String] = []
            if entry.isFlag {
                switch value.lowercased() {
                case "1", "true", "yes", "on": contributed = [option]
                case "0", "false", "no", "off", "": contributed = []
                default:
                    throw EnvironmentError(
                        "\(entry.variable)='\(value)' is not a flag value (1, true, yes, on or 0, false, no, off)")
                }
            } else {
                contributed = [option, value]
            }
            applied.contributions.append((entry.variable, option, contributed))
            applied.arguments += contributed
        }
        return applied
    }

    /// The variable that set `option` in this process, if one did (for error messages).
    static func variable(setting option: String) -> String? {
        let applied = try? apply(to: Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
        return applied?.contributions.first { $0.option == option }?.variable
    }

    /// ` (set by GRIDLITE_PORT)` when the first option a message names came from the environment.
    static func sourceNote(for message: String) -> String {
        guard let word = message.split(separator: " ").first(where: { $0.hasPrefix("--") }) else { return "" }
        let option = String(word.prefix { $0 == "-" || $0.isLetter || $0.isNumber || $0 == "_" })
        return variable(setting: option).map { " (set by \($0))" } ?? ""
    }

    /// Logs which variables set options (names only, never values).
    static func logApplied(logger: Logger) {
        let applied = try? apply(to: Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
        let names = applied?.contributions.map(\.variable) ?? []
        if !names.isEmpty { logger.info("options from the environment: \(names.joined(separator: ", "))") }
    }

    /// A problem with an environment variable's value.
    struct EnvironmentError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// `gridlite`'s entry point: parses the command line with the environment's options added and
    /// runs the command. A bad value from a variable is one line naming the variable, exit 1;
    /// errors on the command line itself are reported by ArgumentParser as usual.
    static func main() async {
        let commandLine = Array(CommandLine.arguments.dropFirst())
        let applied: Applied
        do {
            applied = try apply(to: commandLine, environment: ProcessInfo.processInfo.environment)
        } catch {
            Serve.fail("\(error)")
        }
        do {
            var command = try Gridlite.parseAsRoot(applied.arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if Gridlite.exitCode(for: error) != .success, (try? Gridlite.parseAsRoot(commandLine)) != nil {
                // The command line alone parses: a variable's value is at fault. Name it.
                for contribution in applied.contributions {
                    do {
                        _ = try Gridlite.parseAsRoot(commandLine + contribution.arguments)
                    } catch {
                        let value = contribution.arguments.dropFirst().first ?? ""
                        Serve.fail("\(contribution.variable)='\(value)': \(Gridlite.message(for: error))")
                    }
                }
            }
            Gridlite.exit(withError: error)
        }
    }
}
