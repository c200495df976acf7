import BSON
import Dispatch
import Executors
import Foundation
import Logging
import Storage
import Synchronization
import Testing
@testable import SQLiteStorage

/// The id of the upload the hook committed after the snapshot.
final class LateUpload: Sendable {
    let id = Mutex<ObjectId?>(nil)
}

/// A backup is one point in time although writers keep going: a write committed after the
/// snapshot began, and the chunks of an upload stopped mid-file, stay out of the copy, which a
/// plain fsck (and the restored directory's) then calls clean.
@Suite struct BackupSnapshotTests {
    let filesNS = Namespace(unchecked: "db", "fs.files")
    let chunksNS = Namespace(unchecked: "db", "fs.chunks")
    let chunkSize = 4096

    /// A file's chunks and files document (`size` bytes of a pattern seeded by `seed`).
    func file(_ id: ObjectId, size: Int, seed: Int) -> (chunks: [BSONDocument], files: BSONDocument) {
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed) }
        var chunks: [BSONDocument] = []
        for (n, start) in stride(from: 0, to: size, by: chunkSize).enumerated() {
            var doc = BSONDocument()
            doc.append("_id", .objectId(ObjectId()))
            doc.append("files_id", .objectId(id))
            doc.append("n", .int32(Int32(n)))
            doc.appendBinary("data", subtype: 0, payload: Array(bytes[start..<min(size, start + chunkSize)]))
            chunks.append(doc)
        }
        var files = BSONDocument()
        files.append("_id", .objectId(id))
        files.append("length", .int64(Int64(size)))
        files.append("chunkSize", .int32(Int32(chunkSize)))
        files.append("uploadDate", .datetime(0))
        files.append("filename", .string("f-\(seed)"))
        return (chunks, files)
    }

    func upload(_ engine: SQLiteStorageEngine, size: Int, seed: Int, finish: Bool = true) async throws -> ObjectId {
        let id = ObjectId()
        let (chunks, files) = file(id, size: size, seed: seed)
        _ = try await engine.insert(chunks, into: chunksNS, ordered: true)
        if finish { _ = try await engine.insert([files], into: filesNS, ordered: true) }
        return id
    }

    /// Runs an async body on a thread of its own, so a hook may block it while the test's other
    /// tasks write.
    func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let executor = BlockingExecutor(maximumThreadCount: 1)
        defer { executor.shutdown() }
        return try await Task(executorPreference: executor) { try await body() }.value
    }

    @Test func aCommitAfterTheSnapshotAndAnUploadStoppedMidFileStayOutOfTheCopy() async throws {
        let dir = try TemporaryDirectory()
        let target = try TemporaryDirectory()
        let restored = try TemporaryDirectory()
        defer { dir.remove(); target.remove(); restored.remove() }
        let engine = try await SQLiteStorageEngine.open(directory: dir.url.path, logger: Logger(label: "test"))
        // The daemon's lock: the backup runs online, beside the engine.
        let lock = try DataDirectoryLock.acquire(directory: dir.url.path)
        defer { lock.release() }
        let kept = try await upload(engine, size: 5 * chunkSize + 100, seed: 1)
        // A writer that stopped mid-file: chunks committed, no files document yet.
        let half = try await upload(engine, size: 3 * chunkSize, seed: 2, finish: false)
        var options = Backup.Options()
        let late = LateUpload()
        let test = self
        options.afterSnapshot = { [engine, late, test] in
            // A whole upload commits after the snapshot began and before its segments are looked
            // at: the active segment grows past what the snapshot references.
            let done = DispatchSemaphore(value: 0)
            Task {
                let id = try? await test.upload(engine, size: 7 * test.chunkSize, seed: 3)
                late.id.withLock { $0 = id }
                done.signal()
            }
            done.wait()
        }
        let manifest = try await onOwnThread { [options] in
            try await Backup.run(dataDirectory: dir.url.path, to: target.url.path, options: options, logger: Logger(label: "test"))
        }
        #expect(late.id.withLock { $0 } != nil)
        #expect(manifest.mode == "online")
        #expect(manifest.verified && manifest.problems == 0)
        #expect(manifest.inFlightChunks == 3)
        // A plain fsck of the backup is clean: no uncommitted tail, no orphans.
        let report = try Fsck.check(dataDirectory: target.url.path, options: FsckOptions(), online: false)
        #expect(report.isClean, "\(report.problems.map(\.detail))")
        #expect(report.activeTailBytes == 0)
        // Restored, it holds exactly the file acknowledged before the snapshot.
        _ = try await Restore.run(from: target.url.path, dataDirectory: restored.url.path, force: false, progress: nil,
                                  logger: Logger(label: "test"))
        let again = try Fsck.check(dataDirectory: restored.url.path, options: FsckOptions(), online: false)
        #expect(again.isClean, "\(again.problems.map(\.detail))")
        let snapshot = try DataDirectorySnapshot(dataDirectory: restored.url.path)
        let ids = try snapshot.files(database: "db", bucket: "fs").map(\.idValue)
        #expect(ids == [.objectId(kept)])
        #expect(try snapshot.bucketStats().first?.chunks == 6)
        _ = half
        await engine.close()
    }
}
