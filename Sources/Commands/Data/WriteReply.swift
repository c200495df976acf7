import BSON
import Storage

/// Shapes write replies: `n`, `writeErrors` with `keyPattern`/`keyValue` for duplicate keys.
enum WriteReply {
    /// mongod's batch-size rule for `insert`/`update`/`delete`: 1 to 100,000 statements (16).
    static func checkBatchSize(_ count: Int) throws(CommandError) {
        guard count >= 1, count <= Int(ServerEnvironment.maxWriteBatchSize) else {
            throw CommandError(code: 16, codeName: "InvalidLength", message: "Write batch sizes must be between 1 and \(ServerEnvironment.maxWriteBatchSize). Got \(count) operations.")
        }
    }

    /// Encodes write errors as mongod does.
    static func errors(_ errors: [WriteError]) -> BSONValue {
        .array(errors.sorted { $0.index < $1.index }.map { e in
            var d: BSONDocument = [
                "index": .int32(Int32(clamping: e.index)),
                "code": .int32(e.error.code),
                "codeName": .string(e.error.codeName),
                "errmsg": .string(e.error.message),
            ]
            if let p = e.keyPattern { d.append("keyPattern", .document(p)) }
            if let v = e.keyValue { d.append("keyValue", .document(v)) }
            return .document(d)
        })
    }

    /// Runs `items` through a per-item check, splitting them into those that pass (with their
    /// original positions) and write errors; with `ordered`, stops at the first failure.
    static func prevalidate<T, U>(
        _ items: [T], ordered: Bool, _ check: (T) throws -> U
    ) -> (valid: [(index: Int, value: U)], errors: [WriteError], stopped: Bool) {
        var valid: [(Int, U)] = []
        var errors: [WriteError] = []
        for (i, item) in items.enumerated() {
            do {
                valid.append((i, try check(item)))
            } catch {
                let (code, name, message) = CommandDispatcher.describe(error)
                errors.append(WriteError(index: i, error: StorageError(code: code, codeName: name, message: message)))
                if ordered { return (valid, errors, true) }
            }
        }
        return (valid, errors, false)
    }

    /// Maps a backend's write errors (indexed into the valid subset) back to request positions.
    static func remap(_ errors: [WriteError], positions: [Int]) -> [WriteError] {
        errors.map { e in
            var e = e
            if e.index >= 0 && e.index < positions.count { e.index = positions[e.index] }
            return e
        }
    }
}
