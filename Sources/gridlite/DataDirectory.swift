#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SQLiteStorage

/// Creates and checks the data directory before anything opens it, so that each problem is one
/// line naming the path and the cause (not an `NSError` dump or an SQL script).
enum DataDirectory {
    /// Creates `path` (and its parents) if missing and checks it can hold the daemon's files.
    static func prepare(_ path: String) throws(DataDirectoryError) {
        if let kind = pseudoFileSystem(nearest: path) {
            throw DataDirectoryError(path, "it is on the \(kind) pseudo file system, which cannot hold files")
        }
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw DataDirectoryError(path, "not a directory") }
        } else if errno == ENOENT {
            try create(path)
        } else {
            throw DataDirectoryError(path, errnoText())
        }
        let probe = path + "/.gridlite-write-test-\(getpid())"
        let fd = open(probe, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DataDirectoryError(path, "not writable (\(errnoText()))") }
        close(fd)
        unlink(probe)
        for (name, directory) in [(SQLiteStorageEngine.fileName, false), (SQLiteStorageEngine.blobDirectoryName, true)] {
            let child = path + "/" + name
            guard stat(child, &info) == 0 else { continue }
            let isDirectory = info.st_mode & S_IFMT == S_IFDIR
            if directory && !isDirectory { throw DataDirectoryError(child, "not a directory") }
            if !directory && info.st_mode & S_IFMT != S_IFREG { throw DataDirectoryError(child, "not a regular file") }
            if access(child, directory ? (W_OK | X_OK) : (R_OK | W_OK)) != 0 {
                throw DataDirectoryError(child, "read-only (\(errnoText()))")
            }
        }
    }

    /// mkdir -p, one component at a time, reporting the component that failed.
    private static func create(_ path: String) throws(DataDirectoryError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw DataDirectoryError(path, "cannot create \(prefix): \(errnoText())")
            }
        }
    }

    /// "proc" or "sysfs" when `path` (resolved through its nearest existing ancestor, symbolic
    /// links followed) lies under /proc or /sys, where mkdir and open fail with misleading errors.
    private static func pseudoFileSystem(nearest path: String) -> String? {
        var candidate = path
        var resolved: UnsafeMutablePointer<CChar>?
        while true {
            resolved = realpath(candidate, nil)
            if resolved != nil { break }
            guard let slash = candidate.lastIndex(of: "/"), candidate != "/" else { return nil }
            candidate = slash == candidate.startIndex ? "/" : String(candidate[..<slash])
        }
        guard let resolved else { return nil }
        defer { free(resolved) }
        let real = String(cString: resolved)
        for (root, kind) in [("/proc", "proc"), ("/sys", "sysfs")] where real == root || real.hasPrefix(root + "/") {
            return kind
        }
        return nil
    }

    /// Bytes of the database (with its WAL) and of the segment files, for the start-up banner.
    static func sizes(_ path: String) -> (database: Int64, wal: Int64, segments: Int, segmentBytes: Int64) {
        func size(_ file: String) -> Int64 {
            var info = stat()
            return stat(file, &info) == 0 ? Int64(info.st_size) : 0
        }
        let database = size(path + "/" + SQLiteStorageEngine.fileName)
        let wal = size(path + "/" + SQLiteStorageEngine.fileName + "-wal")
        var count = 0
        var bytes: Int64 = 0
        let blobs = path + "/" + SQLiteStorageEngine.blobDirectoryName
        if let dir = opendir(blobs) {
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                guard name.hasSuffix(".seg") else { continue }
                count += 1
                bytes += size(blobs + "/" + name)
            }
        }
        return (database, wal, count, bytes)
    }

    static func errnoText(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }
}

/// A data-directory problem, printed as one line: the path, then the cause.
struct DataDirectoryError: Error, CustomStringConvertible {
    let description: String
    init(_ path: String, _ cause: String) { self.description = "\(path): \(cause)" }
}

/// Sizes as people read them ("12.3 MiB").
func formatBytes(_ bytes: Int64) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    if unit == 0 { return "\(bytes) bytes" }
    return "\((value * 10).rounded() / 10) \(units[unit])"
}
