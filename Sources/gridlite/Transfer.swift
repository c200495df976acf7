import BSON
import Foundation
import Logging
import SQLiteStorage
import Storage

/// File transfers of the operator commands: downloads from a read-only snapshot, uploads through
/// the engine opened offline (the caller must hold the data directory's lock).
enum Transfer {
    static func download(_ snapshot: DataDirectorySnapshot, _ file: DataDirectorySnapshot.FileInfo, database: String, bucket: String,
                         to path: String, label: String) throws {
        let partial = path + ".partial"
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        guard FileManager.default.createFile(atPath: partial, contents: nil), let out = FileHandle(forWritingAtPath: partial) else {
            throw Fsck.Failure("cannot create \(partial)")
        }
        let bar = ProgressBar(label)
        var done: Int64 = 0
        do {
            try snapshot.read(file, database: database, bucket: bucket) { bytes in
                out.write(Data(bytes))
                done += Int64(bytes.count)
                if file.length > 16 << 20 { bar.update(done: done, total: file.length) }
            }
            try out.close()
        } catch {
            try? out.close()
            try? FileManager.default.removeItem(atPath: partial)
            bar.finish()
            throw error
        }
        bar.finish()
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: partial, toPath: path)
    }
}

/// Uploads into a data directory no daemon serves: takes the lock, opens the engine, writes chunks
/// (255 KiB, as drivers do) in batches and then the files document — the order drivers use.
final class OfflineBucketWriter {
    let engine: SQLiteStorageEngine
    let lock: DataDirectoryLock

    private init(engine: SQLiteStorageEngine, lock: DataDirectoryLock) {
        self.engine = engine
        self.lock = lock
    }

    static func open(_ dataDir: String, command: String) async throws -> OfflineBucketWriter {
        let lock: DataDirectoryLock
        do {
            lock = try DataDirectoryLock.acquire(directory: dataDir)
        } catch .held(_, let pid) {
            throw Fsck.Failure("a gridlite daemon\(pid.map { " (pid \($0))" } ?? "") serves \(dataDir); upload through it with a driver or mongofiles")
        } catch {
            throw Fsck.Failure("\(error)")
        }
        let engine = try await SQLiteStorageEngine.open(directory: dataDir, logger: CLIOutput.logger("gridlite.\(command)"))
        return OfflineBucketWriter(engine: engine, lock: lock)
    }

    func close() async {
        await engine.close()
        lock.release()
    }

    /// Stores the file at `local` as `name`; returns its id as text.
    func put(local: String, as name: String, database: String, bucket: String) async throws -> String {
        guard let input = FileHandle(forReadingAtPath: local) else { throw Fsck.Failure("cannot read \(local)") }
        defer { try? input.close() }
        let total = Int64((try? FileManager.default.attributesOfItem(atPath: local)[.size] as? Int) ?? 0)
        let id = ObjectId()
        let chunkSize = 255 * 1024
        let chunks = Namespace(unchecked: database, "\(bucket).chunks")
        let files = Namespace(unchecked: database, "\(bucket).files")
        let bar = ProgressBar("put")
        var n: Int32 = 0
        var length: Int64 = 0
        var batch: [BSONDocument] = []
        while true {
            let data = try input.read(upToCount: chunkSize) ?? Data()
            if !data.isEmpty {
                var doc = BSONDocument()
                doc.append("_id", .objectId(ObjectId()))
                doc.append("files_id", .objectId(id))
                doc.append("n", .int32(n))
                doc.appendBinary("data", subtype: 0, payload: [UInt8](data))
                batch.append(doc)
                n += 1
                length += Int64(data.count)
            }
            if batch.count >= 32 || (data.isEmpty && !batch.isEmpty) {
                let result = try await engine.insert(batch, into: chunks, ordered: true)
                if let error = result.writeErrors.first { throw Fsck.Failure("writing chunks failed: \(error)") }
                batch.removeAll()
                if total > 16 << 20 { bar.update(done: length, total: total) }
            }
            if data.isEmpty { break }
        }
        bar.finish()
        let filesDoc: BSONDocument = [
            "_id": .objectId(id), "length": .int64(length), "chunkSize": .int32(Int32(chunkSize)),
            "uploadDate": .datetime(Int64(Date().timeIntervalSince1970 * 1000)), "filename": .string(name),
        ]
        let result = try await engine.insert([filesDoc], into: files, ordered: true)
        if let error = result.writeErrors.first { throw Fsck.Failure("writing the files document failed: \(error)") }
        return "ObjectId('\(id.hex)')"
    }
}
