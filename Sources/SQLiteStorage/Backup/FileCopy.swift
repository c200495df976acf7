import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Durable file writes and copies for backup and restore.
enum FileCopy {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Copies `count` bytes from the start of `source` (an open segment) into a new file at
    /// `path` (via `path.partial`, fsynced, renamed). `progress` gets the bytes copied so far.
    static func copy(_ source: SegmentFile, count: Int64, to path: String, progress: (Int64) -> Void) throws {
        let partial = path + ".partial"
        let fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(description: "cannot create \(partial): \(errnoText())") }
        defer { close(fd) }
        let step = 4 << 20
        var buffer = [UInt8](repeating: 0, count: step)
        var done: Int64 = 0
        while done < count {
            let n = Int(min(Int64(step), count - done))
            try buffer.withUnsafeMutableBytes { raw in
                let slice = UnsafeMutableRawBufferPointer(rebasing: raw[0..<n])
                try source.read(into: slice, at: done)
                try writeAll(fd, UnsafeRawBufferPointer(slice), path: partial)
            }
            done += Int64(n)
            progress(done)
        }
        guard fsync(fd) == 0 else { throw Failure(description: "cannot flush \(partial): \(errnoText())") }
        guard rename(partial, path) == 0 else { throw Failure(description: "cannot rename \(partial): \(errnoText())") }
    }

    /// Copies a whole file (restore), durably, via `to.partial`.
    static func copyFile(_ from: String, to: String, progress: (Int64) -> Void) throws {
        let source = try SegmentFile.open(id: 0, path: from, create: false, readOnly: true)
        try copy(source, count: try source.size(), to: to, progress: progress)
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        guard let base = bytes.baseAddress else { return }
        var written = 0
        while written < bytes.count {
            let n = write(fd, base + written, bytes.count - written)
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "cannot write \(path): \(errnoText())")
            }
            written += n
        }
    }

    /// Writes `data` to `path` durably (temporary file, fsync, rename, directory fsync).
    static func writeDurably(_ data: Data, to path: String) throws {
        let partial = path + ".partial"
        let fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(description: "cannot create \(partial): \(errnoText())") }
        do {
            try data.withUnsafeBytes { try writeAll(fd, $0, path: partial) }
            guard fsync(fd) == 0 else { throw Failure(description: "cannot flush \(partial): \(errnoText())") }
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        guard rename(partial, path) == 0 else { throw Failure(description: "cannot rename \(partial): \(errnoText())") }
        syncDirectory((path as NSString).deletingLastPathComponent)
    }

    /// fsyncs a directory (so renames and new files in it survive a power loss).
    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    /// fsyncs a file by path.
    static func syncFile(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: "cannot open \(path): \(errnoText())") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Failure(description: "cannot flush \(path): \(errnoText())") }
    }
}
