import ArgumentParser
import Foundation
import SQLiteStorage

/// `gridlite backup`: a consistent, verified copy of a data directory while the daemon serves.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy a data directory consistently while the daemon serves (verified; --incremental).")

    @OptionGroup var directory: DataDirectoryOptions

    @Option(help: "The backup directory (new, empty, or an earlier backup).")
    var to: String

    @Flag(help: "Keep sealed segments an earlier backup in the same directory already holds.")
    var incremental = false

    func run() async throws {
        var options = Backup.Options()
        options.incremental = incremental
        let bar = ProgressBar("backup")
        options.progress = { done, total in bar.update(done: done, total: total) }
        let source = directory.path
        let target = URL(fileURLWithPath: to).standardizedFileURL.path
        let manifest: BackupManifest
        do {
            manifest = try await Backup.run(dataDirectory: source, to: target, options: options, logger: CLIOutput.logger("gridlite.backup"))
        } catch {
            bar.finish()
            CLIOutput.fail("backup", "\(error)")
        }
        bar.finish()
        if directory.json {
            CLIOutput.json(BackupFormat.json(manifest))
        } else {
            let kept = manifest.segments.filter { !$0.copied }.count
            let rate = manifest.seconds > 0 ? Int64(Double(manifest.bytesCopied) / manifest.seconds) : 0
            CLIOutput.line("backup of \(manifest.source) (\(manifest.mode)) → \(target)")
            CLIOutput.line(CLIOutput.table(["DATABASE", "SEGMENTS", "COPIED", "KEPT", "BYTES COPIED", "SECONDS", "RATE"], [[
                CLIOutput.bytes(manifest.databaseBytes), "\(manifest.segments.count)", "\(manifest.segments.count - kept)", "\(kept)",
                CLIOutput.bytes(manifest.bytesCopied), String(format: "%.2f", manifest.seconds), "\(CLIOutput.bytes(rate))/s",
            ]]))
            if let left = manifest.inFlightChunks, left > 0 {
                CLIOutput.line("left out \(left) chunk(s) of uploads in flight at the snapshot (no files document yet)")
            }
            CLIOutput.line(manifest.verified
                ? "verified: fsck of the copy is clean (\(manifest.documentsVerified) documents)"
                : "NOT verified: fsck of the copy found \(manifest.problems) problem(s); check the source with gridlite fsck")
        }
        throw ExitCode(manifest.verified ? CLIOutput.ok : CLIOutput.problems)
    }
}

/// `gridlite restore`: a verified backup back into a data directory.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup into an empty data directory (--force replaces one), verified first.")

    @Option(help: "The backup directory.")
    var from: String

    @OptionGroup var directory: DataDirectoryOptions

    @Flag(help: "Replace the data of a non-empty data directory (never one a daemon holds).")
    var force = false

    func run() async throws {
        let bar = ProgressBar("restore")
        let result: Restore.Result
        do {
            result = try await Restore.run(
                from: URL(fileURLWithPath: from).standardizedFileURL.path,
                dataDirectory: directory.path, force: force,
                progress: { done, total in bar.update(done: done, total: total) }, logger: CLIOutput.logger("gridlite.restore"))
        } catch {
            bar.finish()
            CLIOutput.fail("restore", "\(error)")
        }
        bar.finish()
        if directory.json {
            CLIOutput.json(["restored": true, "bytes": Int(result.bytes), "documentsVerified": result.documentsVerified,
                            "backup": BackupFormat.json(result.manifest)])
        } else {
            CLIOutput.line("restored the backup of \(result.manifest.source) taken \(result.manifest.createdAt): \(CLIOutput.bytes(result.bytes)), \(result.documentsVerified) documents verified; start the daemon with --data-dir \(directory.dataDir)")
        }
    }
}

enum BackupFormat {
    static func json(_ m: BackupManifest) -> [String: Any] {
        [
            "createdAt": m.createdAt, "source": m.source, "mode": m.mode, "schemaVersion": m.schemaVersion,
            "databaseBytes": Int(m.databaseBytes), "bytesCopied": Int(m.bytesCopied), "seconds": m.seconds,
            "verified": m.verified, "documentsVerified": m.documentsVerified, "problems": m.problems,
            "inFlightChunks": m.inFlightChunks ?? 0,
            "segments": m.segments.map { ["id": Int($0.id), "bytes": Int($0.bytes), "sealed": $0.sealed, "copied": $0.copied] as [String: Any] },
        ]
    }
}
