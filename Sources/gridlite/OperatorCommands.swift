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

/// `gridlite stats`.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Files, bytes, chunks, largest files, dead space and last fsck per bucket.")

    @OptionGroup var options: TargetOptions

    func run() async throws {
        let access = options.open("stats")
        let buckets: [DataDirectorySnapshot.BucketStats]
        let space: DataDirectorySnapshot.SpaceStats?
        do {
            buckets = try access.bucketStats()
            space = try access.spaceStats()
        } catch {
            CLIOutput.fail("stats", "\(error)")
        }
        await access.close()
        let last = options.uri == nil ? LastFsck.load(options.path) : nil
        if options.json {
            CLIOutput.json([
                "buckets": buckets.map { b -> [String: Any] in
                    ["database": b.database, "bucket": b.bucket, "files": b.files, "bytes": Int(b.bytes), "chunks": b.chunks,
                     "largest": b.largest.map { ["name": $0.0, "bytes": Int($0.1)] as [String: Any] }]
                },
                "segments": CLIOutput.orNull(space?.segments), "segmentBytes": CLIOutput.orNull(space.map { Int($0.segmentBytes) }),
                "deadBytes": CLIOutput.orNull(space.map { Int($0.deadBytes) }),
                "databaseBytes": CLIOutput.orNull(space.map { Int($0.databaseBytes) }), "lastFsck": CLIOutput.orNull(last),
            ])
            return
        }
        CLIOutput.line(CLIOutput.table(["DATABASE", "BUCKET", "FILES", "BYTES", "CHUNKS", "LARGEST"], buckets.map { b in
            [b.database, b.bucket, "\(b.files)", CLIOutput.bytes(b.bytes), "\(b.chunks)",
             b.largest.map { "\($0.0) (\(CLIOutput.bytes($0.1)))" }.joined(separator: ", ")]
        }))
        CLIOutput.line()
        if let space {
            CLIOutput.line("segments: \(space.segments) files, \(CLIOutput.bytes(space.segmentBytes)), dead \(CLIOutput.bytes(space.deadBytes)); database \(CLIOutput.bytes(space.databaseBytes))")
        } else {
            CLIOutput.line("segments: not visible over --uri (run stats with --data-dir on the daemon's host)")
        }
        if options.uri != nil {
            CLIOutput.line("last fsck: not visible over --uri")
        } else if let last {
            CLIOutput.line("last fsck: \(last["at"] ?? "?") (\(last["mode"] ?? "?")): \((last["clean"] as? Bool) == true ? "clean" : "\(last["problems"] ?? "?") problem(s)")")
        } else {
            CLIOutput.line("last fsck: never")
        }
    }
}

/// `gridlite ls`.
struct LsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the files of a bucket.")

    @OptionGroup var options: TargetOptions
    @OptionGroup var target: BucketOptions

    func run() async throws {
        let access = options.open("ls")
        let files: [BucketFile]
        do { files = try access.files(database: target.database, bucket: target.bucket) } catch { CLIOutput.fail("ls", "\(error)") }
        await access.close()
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

    @OptionGroup var options: TargetOptions
    @OptionGroup var target: BucketOptions
    @Argument(help: "The file name in the bucket.") var name: String
    @Option(name: .customLong("local"), help: "Where to write it (default: the file name's last component).") var local: String?

    func run() async throws {
        let access = options.open("get")
        let (database, bucket) = (target.database, target.bucket)
        do {
            let files = try access.files(database: database, bucket: bucket).filter { $0.filename == name }
            guard let file = files.max(by: { ($0.uploadDate ?? 0) < ($1.uploadDate ?? 0) }) else {
                CLIOutput.fail("get", "no file named '\(name)' in \(database).\(bucket)")
            }
            let target = local ?? ((name as NSString).lastPathComponent.isEmpty ? "download" : (name as NSString).lastPathComponent)
            try Transfer.download(access, file, database: database, bucket: bucket, to: target, label: "get")
            await access.close()
            if !options.json { CLIOutput.line("wrote \(target) (\(file.length) bytes) from \(database).\(bucket) \(file.id)") }
            else { CLIOutput.json(["file": target, "bytes": Int(file.length), "id": file.id]) }
        } catch {
            CLIOutput.fail("get", "\(error)")
        }
    }
}

/// `gridlite put`.
struct PutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "put", abstract: "Store a local file in a bucket (--uri for a served data directory).")

    @OptionGroup var options: TargetOptions
    @OptionGroup var target: BucketOptions
    @Argument(help: "The local file.") var file: String
    @Option(help: "The name in the bucket (default: the local path as given).") var name: String?

    func run() async throws {
        let access = options.open("put")
        let (database, bucket) = (target.database, target.bucket)
        do {
            let id = try await Transfer.upload(access, local: file, as: name ?? file, database: database, bucket: bucket, label: "put")
            await access.close()
            if options.json { CLIOutput.json(["id": id, "filename": name ?? file]) } else { CLIOutput.line("stored \(file) as \(name ?? file) in \(database).\(bucket) \(id)") }
        } catch {
            CLIOutput.fail("put", "\(error)")
        }
    }
}
