import ArgumentParser
import Foundation
import Logging
import Synchronization

/// The output style every operator subcommand shares (fsck, backup, restore, export, import,
/// stats, ls, get, put): aligned tables for humans, `--json` for scripts, one-line errors on
/// stderr, and exit status 0 (success / clean), 1 (problems found) or 2 (could not run).
enum CLIOutput {
    /// Exit status: success, or a clean check.
    static let ok: Int32 = 0
    /// Exit status: the command ran and found problems.
    static let problems: Int32 = 1
    /// Exit status: the command could not run.
    static let failed: Int32 = 2

    /// Prints `message` as `gridlite <command>: message` on stderr and exits with status 2.
    static func fail(_ command: String, _ message: String) -> Never {
        let line = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        FileHandle.standardError.write(Data("gridlite \(command): \(line)\n".utf8))
        Foundation.exit(failed)
    }

    /// Writes one line to stdout.
    static func line(_ text: String = "") {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Writes one line to stderr.
    static func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Prints `object` (dictionaries, arrays, strings, Int, Double, Bool, NSNull) as pretty JSON.
    static func json(_ object: Any) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]) else {
            line("{}")
            return
        }
        FileHandle.standardOutput.write(data)
        line()
    }

    /// `value`, or JSON null.
    static func orNull(_ value: Any?) -> Any { value ?? NSNull() }

    /// An aligned text table: a header row, a rule, the rows. The last column is not padded.
    static func table(_ headers: [String], _ rows: [[String]]) -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func render(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i == cells.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        var lines = [render(headers), render(widths.map { String(repeating: "-", count: $0) })]
        lines += rows.map(render)
        return lines.joined(separator: "\n")
    }

    /// A byte count for humans (`1.5 GiB`).
    static func bytes(_ n: Int64) -> String { formatBytes(n) }

    /// A logger on stderr at `level` for operator commands.
    static func logger(_ label: String, level: Logger.Level = .notice) -> Logger {
        var logger = Logger(label: label) { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        logger.logLevel = level
        return logger
    }

    /// True when stderr is a terminal (progress bars are drawn only then).
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }

    /// Parses a duration like `1h`, `30m`, `10s`, `2d` or a plain number of seconds.
    static func seconds(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let last = trimmed.last, let unit = units[last], let value = Double(trimmed.dropLast()), value >= 0, value.isFinite {
            return value * unit
        }
        if let value = Double(trimmed), value >= 0, value.isFinite { return value }
        return nil
    }
}

/// A progress bar on stderr: drawn in place (`\r`) when stderr is a terminal — done/total, rate,
/// ETA —, otherwise a plain line at most every 5 seconds. Thread-safe.
final class ProgressBar: Sendable {
    private struct State {
        var lastDraw = ContinuousClock.now - .seconds(10)
        var drew = false
    }

    private let label: String
    private let terminal: Bool
    private let started = ContinuousClock.now
    private let state = Mutex(State())

    /// A bar named `label`; `terminal` decides the style (defaults to whether stderr is a TTY).
    init(_ label: String, terminal: Bool = CLIOutput.stderrIsTerminal) {
        self.label = label
        self.terminal = terminal
    }

    /// Reports `done` of `total` bytes, with `detail` (e.g. "120/300 files") after them.
    func update(done: Int64, total: Int64, detail: String = "") {
        let now = ContinuousClock.now
        let interval: Duration = terminal ? .milliseconds(100) : .seconds(5)
        let due = state.withLock { s -> Bool in
            guard now - s.lastDraw >= interval else { return false }
            s.lastDraw = now
            s.drew = true
            return true
        }
        guard due else { return }
        let elapsed = max(0.001, Double((now - started).components.seconds) + Double((now - started).components.attoseconds) / 1e18)
        let rate = Double(done) / elapsed
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 0
        let eta = rate > 0 && total > done ? Int(Double(total - done) / rate) : 0
        let figures = "\(CLIOutput.bytes(done))/\(CLIOutput.bytes(total)) \(CLIOutput.bytes(Int64(rate)))/s ETA \(eta)s \(detail)"
        if terminal {
            let width = 24
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(Int(fraction * 100))% \(figures)\u{1B}[K".utf8))
        } else {
            FileHandle.standardError.write(Data("\(label): \(Int(fraction * 100))% \(figures)\n".utf8))
        }
    }

    /// Ends the bar (a newline after an in-place bar).
    func finish() {
        let drew = state.withLock { $0.drew }
        if terminal && drew { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
