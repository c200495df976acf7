import BSON
import Storage

/// `compact`: gives the disk space of deleted data back to the operating system, in mongod 7's
/// shape: `{compact: <collection>, force: <bool>}` on a database, reply `{bytesFreed}`; a missing
/// collection is 26 `NamespaceNotFound`. `force` (which lets mongod compact a replica-set primary)
/// has nothing to allow on a standalone server and is only type-checked. What is freed depends on
/// the storage engine (SQLite: docs/storage.md, "Compaction").
public enum CompactCommand: CommandHandler {
    public static let names = ["compact"]
    public static let help = "Gives the disk space of deleted data back to the operating system."
    public static let parameters = ParameterSpec(optional: ["force"], ignored: ["comment"], strict: true)

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let namespace = try request.namespace()
        if let force = request.body["force"] {
            switch force {
            case .bool: break
            default: throw CommandError.wrongType("force", in: request.name, expected: "bool", got: force.type)
            }
        }
        let freed = max(0, try await context.storage.compact(namespace))
        // As mongod's appendNumber: an int when it fits comfortably, else a long.
        let value: BSONValue = freed < (1 << 30) ? .int32(Int32(truncatingIfNeeded: freed)) : .int64(freed)
        return ["bytesFreed": value]
    }
}
