import ArgumentParser
import Foundation
import SQLiteStorage

/// `gridlite export`: every file of a bucket into a directory tree (file name = relative path,
/// as mongofiles names files), newest revision of each name.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Write every file of a bucket into a directory tree.")

    @OptionGroup var options: TargetOptions
    @OptionGroup var target: BucketOptions
    @Option(help: "The directory to write into.") var to: String

    func run() async throws {
        let access = options.open("export")
        let (database, bucket) = (target.database, target.bucket)
        do {
            var newest: [String: BucketFile] = [:]
            for f in try access.files(database: database, bucket: bucket) {
                let name = f.filename ?? f.id
                if (newest[name]?.uploadDate ?? .min) <= (f.uploadDate ?? 0) { newest[name] = f }
            }
            var total: Int64 = 0
            for (name, file) in newest.sorted(by: { $0.key < $1.key }) {
                try Transfer.download(access, file, database: database, bucket: bucket,
                                      to: (to as NSString).appendingPathComponent(Self.safePath(name)), label: "export")
                total += file.length
            }
            await access.close()
            if options.json { CLIOutput.json(["files": newest.count, "bytes": Int(total), "to": to]) }
            else { CLIOutput.line("exported \(newest.count) file(s), \(CLIOutput.bytes(total)) from \(database).\(bucket) to \(to)") }
        } catch {
            CLIOutput.fail("export", "\(error)")
        }
    }

    /// A relative path that stays inside the target: no leading `/`, `.` or `..` components.
    static func safePath(_ name: String) -> String {
        let parts = name.split(separator: "/").filter { $0 != "." && $0 != ".." && !$0.isEmpty }
        return parts.isEmpty ? "_" : parts.joined(separator: "/")
    }
}

/// `gridlite import`: every regular file under a directory into a bucket, named by its relative path.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import", abstract: "Store every file under a directory in a bucket (--uri for a served data directory).")

    @OptionGroup var options: TargetOptions
    @OptionGroup var target: BucketOptions
    @Option(help: "The directory to read.") var from: String

    func run() async throws {
        let (database, bucket) = (target.database, target.bucket)
        do {
            let root = URL(fileURLWithPath: from).standardizedFileURL.path
            guard let walker = FileManager.default.enumerator(atPath: root) else { CLIOutput.fail("import", "cannot read \(from)") }
            var names: [String] = []
            while let next = walker.nextObject() as? String {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: (root as NSString).appendingPathComponent(next), isDirectory: &isDirectory), !isDirectory.boolValue {
                    names.append(next)
                }
            }
            let access = options.open("import")
            for name in names.sorted() {
                _ = try await Transfer.upload(access, local: (root as NSString).appendingPathComponent(name), as: name,
                                              database: database, bucket: bucket, label: "import")
            }
            await access.close()
            if options.json { CLIOutput.json(["files": names.count, "from": from]) }
            else { CLIOutput.line("imported \(names.count) file(s) from \(from) into \(database).\(bucket)") }
        } catch {
            CLIOutput.fail("import", "\(error)")
        }
    }
}
