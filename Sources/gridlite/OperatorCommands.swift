import ArgumentParser
import BSON
import Foundation
import Logging
import SQLiteStorage
import Storage

/// Where the last `gridlite fsck` result is kept, for `gridlite stats`.
enum LastFsck {
    static func path(_ dataDir: String) -> String { (dataDir as NSString).appendingPathComponent("fsck-last.json") }

    static func record(_ dataDir: String, _ report: FsckReport) {
        let object: [String: Any] = ["at": ISO8601DateFormatter().string(from: Date()), "mode": report.mode,
                                     "clean": report.isClean, "problems": report.problems.count]
        if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
            try? data.write(to: URL(fileURLWithPath: path(dataDir)), options: .atomic)
        }
    }

    static func load(_ dataDir: String) -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: path(dataDir)) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}

/// The options every data-directory subcommand shares.
struct DataDirOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "The data directory (a daemon may be serving it for read-only commands).")
    var dataDir: String

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    var path: String { URL(fileURLWithPath: dataDir).standardizedFileURL.path }

    func snapshot(_ command: String) -> DataDirectorySnapshot {
        do {
            return try DataDirectorySnapshot(dataDirectory: path)
        } catch {
            CLIOutput.fail(command, "\(error)")
        }
    }
}

/// `gridlite stats`.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Files, bytes, chunks, largest files, dead space and last fsck per bucket.")

    @OptionGroup var options: DataDirOptions

    func run() async throws {
        let snapshot = options.snapshot("stats")
        let buckets: [DataDirectorySnapshot.BucketStats]
        let space: DataDirectorySnapshot.SpaceStats
        do {
            buckets = try snapshot.bucketStats()
            space = try snapshot.spaceStats()
        } catch {
            CLIOutput.fail("stats", "\(error)")
        }
        let last = LastFsck.load(options.path)
        if options.json {
            CLIOutput.json([
                "buckets": buckets.map { b -> [String: Any] in
                    ["database": b.database, "bucket": b.bucket, "files": b.files, "bytes": Int(b.bytes), "chunks": b.chunks,
                     "largest": b.largest.map { ["name": $0.0, "bytes": Int($0.1)] as [String: Any] }]
                },
                "segments": space.segments, "segmentBytes": Int(space.segmentBytes), "deadBytes": Int(space.deadBytes),
                "databaseBytes": Int(space.databaseBytes), "lastFsck": CLIOutput.orNull(last),
            ])
            return
        }
        CLIOutput.line(CLIOutput.table(["DATABASE", "BUCKET", "FILES", "BYTES", "CHUNKS", "LARGEST"], buckets.map { b in
            [b.database, b.bucket, "\(b.files)", CLIOutput.bytes(b.bytes), "\(b.chunks)",
             b.largest.map { "\($0.0) (\(CLIOutput.bytes($0.1)))" }.joined(separator: ", ")]
        }))
        CLIOutput.line()
        CLIOutput.line("segments: \(space.segments) files, \(CLIOutput.bytes(space.segmentBytes)), dead \(CLIOutput.bytes(space.deadBytes)); database \(CLIOutput.bytes(space.databaseBytes))")
        if let last {
            CLIOutput.line("last fsck: \(last["at"] ?? "?") (\(last["mode"] ?? "?")): \((last["clean"] as? Bool) == true ? "clean" : "\(last["problems"] ?? "?") problem(s)")")
        } else {
            CLIOutput.line("last fsck: never")
        }
    }
}

/// `gridlite ls`.
struct LsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the files of a bucket.")

    @OptionGroup var options: DataDirOptions
    @Option(name: .customLong("db"), help: "The database.") var database: String = "test"
    @Option(help: "The bucket.") var bucket: String = "fs"

    func run() async throws {
        let snapshot = options.snapshot("ls")
        let files: [DataDirectorySnapshot.FileInfo]
        do { files = try snapshot.files(database: database, bucket: bucket) } catch { CLIOutput.fail("ls", "\(error)") }
        if options.json {
            CLIOutput.json(files.map { f -> [String: Any] in
                ["id": f.id, "filename": CLIOutput.orNull(f.filename), "length": Int(f.length), "chunkSize": f.chunkSize,
                 "uploadDate": CLIOutput.orNull(f.uploadDate.map { Int($0) })]
            })
            return
        }
        let format = ISO8601DateFormatter()
        CLIOutput.line(CLIOutput.table(["ID", "LENGTH", "UPLOADED", "FILENAME"], files.map { f in
            [f.id, "\(f.length)", f.uploadDate.map { format.string(from: Date(timeIntervalSince1970: Double($0) / 1000)) } ?? "-", f.filename ?? "-"]
        }))
    }
}

/// `gridlite get`.
struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Write a file of a bucket to disk (newest by name; checksums verified).")

    @OptionGroup var options: DataDirOptions
    @Option(name: .customLong("db"), help: "The database.") var database: String = "test"
    @Option(help: "The bucket.") var bucket: String = "fs"
    @Argument(help: "The file name in the bucket.") var name: String
    @Option(name: .customLong("local"), help: "Where to write it (default: the file name's last component).") var local: String?

    func run() async throws {
        let snapshot = options.snapshot("get")
        do {
            let files = try snapshot.files(database: database, bucket: bucket).filter { $0.filename == name }
            guard let file = files.max(by: { ($0.uploadDate ?? 0) < ($1.uploadDate ?? 0) }) else {
                CLIOutput.fail("get", "no file named '\(name)' in \(database).\(bucket)")
            }
            let target = local ?? ((name as NSString).lastPathComponent.isEmpty ? "download" : (name as NSString).lastPathComponent)
            try Transfer.download(snapshot, file, database: database, bucket: bucket, to: target, label: "get")
            if !options.json { CLIOutput.line("wrote \(target) (\(file.length) bytes) from \(database).\(bucket) \(file.id)") }
            else { CLIOutput.json(["file": target, "bytes": Int(file.length), "id": file.id]) }
        } catch {
            CLIOutput.fail("get", "\(error)")
        }
    }
}

/// `gridlite put`.
struct PutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "put", abstract: "Store a local file in a bucket (data directory not served by a daemon).")

    @OptionGroup var options: DataDirOptions
    @Option(name: .customLong("db"), help: "The database.") var database: String = "test"
    @Option(help: "The bucket.") var bucket: String = "fs"
    @Argument(help: "The local file.") var file: String
    @Option(help: "The name in the bucket (default: the local path as given).") var name: String?

    func run() async throws {
        do {
            let writer = try await OfflineBucketWriter.open(options.path, command: "put")
            let id = try await writer.put(local: file, as: name ?? file, database: database, bucket: bucket)
            await writer.close()
            if options.json { CLIOutput.json(["id": id, "filename": name ?? file]) } else { CLIOutput.line("stored \(file) as \(name ?? file) in \(database).\(bucket) \(id)") }
        } catch {
            CLIOutput.fail("put", "\(error)")
        }
    }
}
