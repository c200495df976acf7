import ArgumentParser
import BSON

/// `--setParameter name=value` (repeatable), as mongod spells it. The only parameter so far is
/// `enableTestCommands` (`1`/`0`/`true`/`false`): it turns on `configureFailPoint`, which driver
/// test suites (fail points, client-side timeouts, retryable reads) need. An unknown name, a
/// missing `=` or a value of the wrong kind is a one-line error at start-up, as in mongod.
struct ParameterOptions: ParsableArguments {
    @Option(name: .customLong("setParameter"),
            help: "Server parameter as name=value (repeatable). Known: enableTestCommands=1 (configureFailPoint).")
    var setParameter: [String] = []

    /// The parameters gridlite knows, by name.
    static let known: Set<String> = ["enableTestCommands"]

    /// The parsed `name=value` pairs, in command-line order; a later one wins.
    func parsed() throws(ParameterOptionError) -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        for item in setParameter {
            guard let eq = item.firstIndex(of: "=") else {
                throw ParameterOptionError("Illegal option assignment: \"\(item)\" (expected --setParameter name=value)")
            }
            let name = String(item[..<eq])
            let value = String(item[item.index(after: eq)...])
            guard ParameterOptions.known.contains(name) else {
                throw ParameterOptionError("Unknown --setParameter '\(name)' (known: \(ParameterOptions.known.sorted().joined(separator: ", ")))")
            }
            guard ParameterOptions.bool(value) != nil else {
                throw ParameterOptionError("Invalid value for --setParameter '\(name)': '\(value)' (expected 1, 0, true or false)")
            }
            out.append((name, value))
        }
        return out
    }

    /// Whether `enableTestCommands` was set to a true value.
    func testCommandsEnabled() throws(ParameterOptionError) -> Bool {
        let values = try parsed().filter { $0.name == "enableTestCommands" }
        return values.last.flatMap { ParameterOptions.bool($0.value) } ?? false
    }

    /// `getCmdLineOpts.parsed.setParameter` as mongod reports it (the values as given, strings).
    func parsedDocument() -> BSONDocument? {
        guard let pairs = try? parsed(), !pairs.isEmpty else { return nil }
        var doc = BSONDocument()
        for (name, value) in pairs {
            doc.set(name, .string(value))
        }
        return doc
    }

    /// mongod's boolean parameter spellings.
    static func bool(_ value: String) -> Bool? {
        switch value {
        case "1", "true": return true
        case "0", "false": return false
        default: return nil
        }
    }
}

/// A `--setParameter` problem, reported as one line.
struct ParameterOptionError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
