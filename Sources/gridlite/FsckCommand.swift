import ArgumentParser
import Foundation
import SQLiteStorage

/// `gridlite fsck`: checks a data directory (offline, or online beside a running daemon) and
/// with `--repair` fixes what it found. Exit status 0 clean, 1 problems, 2 could not run.
struct FsckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fsck",
        abstract: "Check a data directory: checksums, segments, GridFS buckets (--repair to fix).")

    @OptionGroup var directory: DataDirectoryOptions

    @Option(name: .customLong("db"), help: "Only this database.")
    var database: String?

    @Option(help: "Only this bucket (e.g. fs).")
    var bucket: String?

    @Flag(help: "Repair: remove duplicate and old orphan chunks, quarantine damaged files, rebuild accounting, compact (daemon stopped).")
    var repair = false

    @Option(help: "Orphan chunks younger than this are kept by --repair (e.g. 1h, 30m, 0).")
    var grace: String = "1h"

    func run() async throws {
        guard let graceSeconds = CLIOutput.seconds(grace) else { CLIOutput.fail("fsck", "invalid --grace '\(grace)' (e.g. 1h, 30m, 10s, 0)") }
        var options = FsckOptions()
        options.database = database
        options.bucket = bucket
        options.repair = repair
        options.graceSeconds = graceSeconds
        let bar = ProgressBar("fsck")
        options.progress = { p in
            bar.update(done: p.bytes, total: p.totalBytes, detail: "\(p.documents)/\(p.totalDocuments) documents")
        }
        let path = directory.path
        let report: FsckReport
        do {
            report = try await Fsck.run(dataDirectory: path, options: options, logger: CLIOutput.logger("gridlite.fsck"))
        } catch {
            bar.finish()
            CLIOutput.fail("fsck", "\(error)")
        }
        bar.finish()
        if !repair || report.isClean { LastFsck.record(path, report) }
        if directory.json { CLIOutput.json(FsckFormat.json(report)) } else { FsckFormat.printText(report) }
        throw ExitCode(report.isClean ? CLIOutput.ok : CLIOutput.problems)
    }
}

/// Rendering of an ``FsckReport``: the human table and the JSON object.
enum FsckFormat {
    static func printText(_ r: FsckReport) {
        CLIOutput.line("gridlite fsck \(r.dataDirectory) (\(r.mode)): \(r.documentsChecked) documents, \(CLIOutput.bytes(r.bytesVerified)) verified, \(r.segmentsChecked) segments, \(String(format: "%.2f", r.seconds)) s")
        if !r.buckets.isEmpty {
            CLIOutput.line()
            CLIOutput.line(CLIOutput.table(
                ["DATABASE", "BUCKET", "FILES", "CHUNKS", "VERIFIED", "PROBLEMS"],
                r.buckets.map { b in
                    let problems = b.isQuarantine ? "quarantine (\(b.files) files)"
                        : b.problems.isEmpty ? "none" : b.problems.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: " ")
                    return [b.database, b.bucket, "\(b.files)", "\(b.chunks)", CLIOutput.bytes(b.bytesVerified), problems]
                }))
        }
        if !r.problems.isEmpty {
            CLIOutput.line()
            CLIOutput.line(CLIOutput.table(
                ["KIND", "NAMESPACE", "FILES_ID", "FILENAME", "N", "DETAIL"],
                r.problems.map { p in
                    [p.kind.rawValue, [p.database, p.collection].compactMap { $0 }.joined(separator: "."), p.filesId ?? "-",
                     p.filename ?? "-", p.n.map(String.init) ?? "-", p.detail]
                }))
        }
        if !r.quarantined.isEmpty {
            CLIOutput.line()
            CLIOutput.line("quarantined files (kept, not served from their bucket):")
            CLIOutput.line(CLIOutput.table(["DATABASE", "BUCKET", "FILES_ID", "FILENAME", "REASON"],
                                           r.quarantined.map { [$0.database, $0.bucket, $0.filesId, $0.filename ?? "-", $0.reason] }))
        }
        if !r.repairs.isEmpty {
            CLIOutput.line()
            CLIOutput.line("repairs:")
            for line in r.repairs { CLIOutput.line("  \(line)") }
        }
        CLIOutput.line()
        if r.isClean {
            CLIOutput.line("fsck: clean" + (r.quarantined.isEmpty ? "" : " (\(r.quarantined.count) file(s) in quarantine)"))
        } else {
            let counts = r.problemCounts.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: " ")
            CLIOutput.line("fsck: \(r.problems.count) problem(s) found: \(counts)")
        }
    }

    static func json(_ r: FsckReport) -> [String: Any] {
        [
            "mode": r.mode,
            "dataDirectory": r.dataDirectory,
            "clean": r.isClean,
            "documentsChecked": r.documentsChecked,
            "bytesVerified": Int(r.bytesVerified),
            "segmentsChecked": r.segmentsChecked,
            "seconds": r.seconds,
            "problemCounts": Dictionary(uniqueKeysWithValues: r.problemCounts.map { ($0.key.rawValue, $0.value) }),
            "buckets": r.buckets.map { b -> [String: Any] in
                ["database": b.database, "bucket": b.bucket, "files": b.files, "chunks": b.chunks,
                 "bytesVerified": Int(b.bytesVerified), "quarantine": b.isQuarantine,
                 "problems": Dictionary(uniqueKeysWithValues: b.problems.map { ($0.key.rawValue, $0.value) })]
            },
            "problems": r.problems.map { p -> [String: Any] in
                ["kind": p.kind.rawValue, "database": CLIOutput.orNull(p.database), "collection": CLIOutput.orNull(p.collection),
                 "filesId": CLIOutput.orNull(p.filesId), "filename": CLIOutput.orNull(p.filename),
                 "n": CLIOutput.orNull(p.n), "detail": p.detail]
            },
            "quarantined": r.quarantined.map { q -> [String: Any] in
                ["database": q.database, "bucket": q.bucket, "filesId": q.filesId, "filename": CLIOutput.orNull(q.filename), "reason": q.reason]
            },
            "repairs": r.repairs,
        ]
    }
}
