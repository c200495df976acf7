#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One open segment file: an append-only file of chunk payloads. Reads (`pread`) are safe from any
/// thread; only the writer appends. The descriptor closes when the last reference goes away, so a
/// reader still holding a retired (already unlinked) segment can finish its read.
final class SegmentFile: Sendable {
    /// The segment id.
    let id: Int64
    /// The file's path.
    let path: String
    private let fd: Int32

    private init(id: Int64, path: String, fd: Int32) {
        self.id = id
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    /// Opens (creating when `create`) the segment file at `path`.
    static func open(id: Int64, path: String, create: Bool, readOnly: Bool = false) throws -> SegmentFile {
        let flags = (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC | (create && !readOnly ? O_CREAT : 0)
        let fd = Glibc.open(path, flags, 0o644)
        guard fd >= 0 else { throw BlobStoreError("cannot open segment \(path): \(errnoText())") }
        return SegmentFile(id: id, path: path, fd: fd)
    }

    /// The file's current size in bytes.
    func size() throws -> Int64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw BlobStoreError("cannot stat \(path): \(errnoText())") }
        return Int64(st.st_size)
    }

    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        guard let base = bytes.baseAddress else { return }
        try transfer(bytes.count, at: offset, verb: "write") { done, position in
            pwrite(fd, base + done, bytes.count - done, position)
        }
    }

    /// Fills `buffer` from `offset`; a file shorter than that is an error.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws {
        guard let base = buffer.baseAddress else { return }
        try transfer(buffer.count, at: offset, verb: "read") { done, position in
            pread(fd, base + done, buffer.count - done, position)
        }
    }

    /// Repeats `io(bytesDone, filePosition)` (a `pread`/`pwrite`) until `count` bytes moved, retrying
    /// after EINTR; an error or a premature end of file throws.
    private func transfer(_ count: Int, at offset: Int64, verb: String, _ io: (Int, off_t) -> Int) throws {
        var done = 0
        while done < count {
            let n = io(done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw BlobStoreError("cannot \(verb) segment \(path): \(errnoText())")
            }
            if n == 0 {
                throw BlobStoreError("segment \(path) ends at \(offset + Int64(done)), \(count - done) bytes short")
            }
            done += n
        }
    }

    /// Cuts the file back to `size` bytes (undoing a rolled-back transaction's appends).
    func truncate(to size: Int64) throws {
        guard ftruncate(fd, off_t(size)) == 0 else { throw BlobStoreError("cannot truncate \(path): \(errnoText())") }
    }

    /// Reserves disk blocks for `length` bytes from `offset` without changing the file's size
    /// (`fallocate` with `FALLOC_FL_KEEP_SIZE`). Appends into reserved blocks skip ext4's per-block
    /// delayed-allocation work: measured 54 → 35 ms per 256 MiB written. Best effort: a file system
    /// without `fallocate` just gets plain appends.
    func preallocate(from offset: Int64, length: Int64) {
        let keepSize: Int32 = 0x01  // FALLOC_FL_KEEP_SIZE
        _ = Self.fallocate?(fd, keepSize, off_t(offset), off_t(length))
    }

    /// glibc's `fallocate` (a GNU extension the Swift overlay does not import), looked up once.
    private static let fallocate: (@convention(c) (Int32, Int32, off_t, off_t) -> Int32)? = {
        #if os(Linux)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "fallocate") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32, off_t, off_t) -> Int32).self)
        #else
        return nil
        #endif
    }()

    /// Flushes the file's data to stable storage.
    func sync() {
        _ = fdatasync(fd)
    }

    /// Like ``sync()``; false when `fdatasync` failed (errno says why).
    func syncChecked() -> Bool {
        fdatasync(fd) == 0
    }
}

/// `strerror(errno)` as a string.
func errnoText() -> String {
    String(cString: strerror(errno))
}
