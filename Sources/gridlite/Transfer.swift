import BSON
import Foundation
import Logging
import SQLiteStorage
import Storage

/// File transfers of the operator commands, against a data directory or a daemon (``BucketAccess``).
enum Transfer {
    /// GridFS's default chunk size, as drivers and mongofiles use it.
    static let chunkSize = 255 * 1024

    /// Writes `file` to `path` (through `path.partial`, renamed when complete and verified).
    static func download(_ access: any BucketAccess, _ file: BucketFile, database: String, bucket: String,
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
            try access.read(file, database: database, bucket: bucket) { bytes in
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

    /// Stores the file at `local` as `name` in the order drivers use: chunks (255 KiB) in batches,
    /// then the files document. Returns its id as text.
    static func upload(_ access: any BucketAccess, local: String, as name: String, database: String, bucket: String,
                       label: String) async throws -> String {
        guard let input = FileHandle(forReadingAtPath: local) else { throw Fsck.Failure("cannot read \(local)") }
        defer { try? input.close() }
        let total = Int64((try? FileManager.default.attributesOfItem(atPath: local)[.size] as? Int) ?? 0)
        let id = ObjectId()
        let bar = ProgressBar(label)
        var n: Int32 = 0
        var length: Int64 = 0
        var batch: [BSONDocument] = []
        var batchBytes = 0
        while true {
            let data = try input.read(upToCount: chunkSize) ?? Data()
            if !data.isEmpty {
                var doc = BSONDocument()
                doc.append("_id", .objectId(ObjectId()))
                doc.append("files_id", .objectId(id))
                doc.append("n", .int32(n))
                doc.appendBinary("data", subtype: 0, payload: [UInt8](data))
                batch.append(doc)
                batchBytes += doc.bytes.count
                n += 1
                length += Int64(data.count)
            }
            if batchBytes + chunkSize + 1024 > access.batchBytes || (data.isEmpty && !batch.isEmpty) {
                try await access.storeChunks(batch, database: database, bucket: bucket)
                batch.removeAll()
                batchBytes = 0
                if total > 16 << 20 { bar.update(done: length, total: total) }
            }
            if data.isEmpty { break }
        }
        bar.finish()
        let filesDoc: BSONDocument = [
            "_id": .objectId(id), "length": .int64(length), "chunkSize": .int32(Int32(chunkSize)),
            "uploadDate": .datetime(Int64(Date().timeIntervalSince1970 * 1000)), "filename": .string(name),
        ]
        try await access.storeFile(filesDoc, database: database, bucket: bucket)
        return "ObjectId('\(id.hex)')"
    }
}

/// Writes into a data directory no daemon serves: takes the lock, opens the engine.
final class OfflineBucketWriter {
    let engine: SQLiteStorageEngine
    let lock: DataDirectoryLock

    private init(engine: SQLiteStorageEngine, lock: DataDirectoryLock) {
        self.engine = engine
        self.lock = lock
    }

    static func open(_ dataDir: String, command: String) async throws -> OfflineBucketWriter {
        let lock = try DataDirectoryLock.forTool(directory: dataDir)
            .required(dataDir, "write through it with --uri mongodb://host:port (or a driver, or mongofiles)")
        let engine = try await SQLiteStorageEngine.open(directory: dataDir, logger: CLIOutput.logger("gridlite.\(command)"))
        return OfflineBucketWriter(engine: engine, lock: lock)
    }

    func close() async {
        await engine.close()
        lock.release()
    }

    /// Inserts `documents` into `database.collection`; a write error throws.
    func insert(_ documents: [BSONDocument], into collection: String, database: String) async throws {
        let result = try await engine.insert(documents, into: Namespace(unchecked: database, collection), ordered: true)
        if let error = result.writeErrors.first { throw Fsck.Failure("writing \(database).\(collection) failed: \(error)") }
    }
}
