#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The exclusive lock on a data directory, like mongod's `mongod.lock`: an `flock(LOCK_EX)` on
/// `gridlite.lock` inside it, held for as long as this value lives. The file holds the holder's
/// pid as text so that a second process can name it.
///
/// Every process that opens the directory's files — the daemon, an offline tool — takes it
/// first: two writers on one SQLite database and one set of segment files would each keep their
/// own catalog and segment accounting and hand out the same blob offsets (silently wrong bytes).
///
/// A stale lock after `kill -9` or a crash needs no cleanup: the kernel drops an `flock` with the
/// last descriptor of its holder, and the leftover pid text is simply overwritten. The file is
/// emptied on ``release()`` (a clean exit), so a non-empty file with no holder means the last
/// holder died.
public final class DataDirectoryLock: Sendable {
    /// The lock file's name inside the data directory.
    public static let fileName = "gridlite.lock"

    /// Why the lock could not be taken.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        /// Another live process holds it; its pid when the file names one.
        case held(path: String, pid: Int32?)
        /// The lock file could not be created, read or written.
        case io(path: String, operation: String, errno: Int32)

        /// One line naming the path and the cause.
        public var description: String {
            switch self {
            case .held(let path, let pid?):
                "\(path) is locked by another gridlite process (pid \(pid)); stop it first or use another data directory"
            case .held(let path, nil):
                "\(path) is locked by another process; stop it first or use another data directory"
            case .io(let path, let operation, let code):
                "cannot \(operation) \(path): \(String(cString: strerror(code)))"
            }
        }
    }

    /// The lock file's path.
    public let path: String
    /// The pid the file named when the lock was taken over from a process that died holding it
    /// (nil after a clean shutdown or on first use).
    public let stalePid: Int32?
    /// The open lock file; -1 once released.
    private let descriptor: Mutex<Int32>

    private init(path: String, descriptor: Int32, stalePid: Int32?) {
        self.path = path
        self.descriptor = Mutex(descriptor)
        self.stalePid = stalePid
    }

    /// Takes the lock of `directory` (which must exist) without waiting, writing this process's pid.
    public static func acquire(directory: String) throws(Failure) -> DataDirectoryLock {
        let path = directory.hasSuffix("/") ? directory + fileName : directory + "/" + fileName
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(path: path, operation: "open the lock file", errno: errno) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let holder = readPid(fd)
            close(fd)
            if code == EWOULDBLOCK { throw .held(path: path, pid: holder) }
            throw .io(path: path, operation: "lock", errno: code)
        }
        let stale = readPid(fd)
        let text = Array("\(getpid())\n".utf8)
        let written = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        guard ftruncate(fd, off_t(text.count)) == 0, written == text.count, fsync(fd) == 0 else {
            let code = errno
            close(fd)
            throw .io(path: path, operation: "write the lock file", errno: code)
        }
        return DataDirectoryLock(path: path, descriptor: fd, stalePid: stale)
    }

    /// Empties the file (marking a clean exit) and drops the lock. Idempotent.
    public func release() {
        descriptor.withLock { fd in
            guard fd >= 0 else { return }
            _ = ftruncate(fd, 0)
            _ = fsync(fd)
            close(fd)
            fd = -1
        }
    }

    deinit {
        descriptor.withLock { fd in
            if fd >= 0 { close(fd) }
        }
    }

    /// The pid written in the file, if it holds one.
    private static func readPid(_ fd: Int32) -> Int32? {
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let digits = bytes.prefix(count).prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        guard let pid = Int32(String(decoding: digits, as: UTF8.self)), pid > 0 else { return nil }
        return pid
    }
}
