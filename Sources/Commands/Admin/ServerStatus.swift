import BSON
import Foundation
import Storage

/// `serverStatus`: live figures about the process — uptime, connections, network, operation
/// counters, document counts, memory, storage engine — in mongod's shapes, so monitoring tools
/// written for mongod (mongodb_exporter, PMM) read them.
public enum ServerStatusCommand: CommandHandler {
    public static let names = ["serverStatus"]
    public static let help = "Reports live server figures."
    /// Section toggles (`repl: 0`, `metrics: 0`…) are accepted; gridlite always returns its sections.
    public static let parameters = ParameterSpec.lenient

    /// The most connections gridlite advertises as available (there is no hard cap).
    static let connectionLimit = 1_000_000

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let env = context.environment
        let c = env.counters
        let current = c.currentConnections.load(ordering: .relaxed)
        let uptime = env.uptime
        var reply: BSONDocument = [
            "host": .string(env.hostAndPort),
            "version": .string(ServerEnvironment.mongoVersion),
            "process": "gridlite",
            "pid": .int64(Int64(env.pid)),
            "uptime": .double(uptime.rounded(.down)),
            "uptimeMillis": .int64(Int64(uptime * 1000)),
            "uptimeEstimate": .int64(Int64(uptime)),
            "localTime": Date().bsonDate,
            "connections": .document([
                "current": .int32(Int32(clamping: current)),
                "available": .int32(Int32(clamping: connectionLimit - current)),
                "totalCreated": .int32(Int32(clamping: c.totalConnections.load(ordering: .relaxed))),
            ]),
            "network": .document([
                "bytesIn": .int64(ServerCounters.read(c.bytesIn)),
                "bytesOut": .int64(ServerCounters.read(c.bytesOut)),
                "physicalBytesIn": .int64(ServerCounters.read(c.physicalBytesIn)),
                "physicalBytesOut": .int64(ServerCounters.read(c.physicalBytesOut)),
                "numRequests": .int64(ServerCounters.read(c.requests)),
                "compression": .document(c.compression.document),
            ]),
            "opcounters": .document([
                "insert": .int64(ServerCounters.read(c.inserts)),
                "query": .int64(ServerCounters.read(c.queries)),
                "update": .int64(ServerCounters.read(c.updates)),
                "delete": .int64(ServerCounters.read(c.deletes)),
                "getmore": .int64(ServerCounters.read(c.getMores)),
                "command": .int64(ServerCounters.read(c.commands)),
            ]),
            "metrics": .document([
                "document": .document([
                    "deleted": .int64(ServerCounters.read(c.documentsDeleted)),
                    "inserted": .int64(ServerCounters.read(c.documentsInserted)),
                    "returned": .int64(ServerCounters.read(c.documentsReturned)),
                    "updated": .int64(ServerCounters.read(c.documentsUpdated)),
                ]),
            ]),
            "storageEngine": .document([
                "name": .string(env.storageEngineName),
                "supportsCommittedReads": .bool(true),
                "persistent": .bool(true),
            ]),
            // Stored documents whose checksum did not match (or whose payload could not be read)
            // since start: each was refused with DataCorruptionDetected (301). Run `gridlite fsck`.
            "integrity": .document([
                "corruptionsDetected": .int64(Int64(DataIntegrity.corruptionsDetected)),
            ]),
        ]
        if let mem = ProcessMemory.read() {
            reply.append("mem", .document([
                "bits": .int32(64),
                "resident": .int32(Int32(clamping: mem.residentKiB / 1024)),
                "virtual": .int32(Int32(clamping: mem.virtualKiB / 1024)),
                "supported": .bool(true),
            ]))
        }
        return reply
    }
}

/// Resident and virtual memory of this process, from /proc/self/status (Linux).
public struct ProcessMemory: Sendable {
    /// Resident set size in KiB.
    public let residentKiB: Int
    /// Virtual size in KiB.
    public let virtualKiB: Int
    /// Peak resident set size in KiB.
    public let peakResidentKiB: Int

    /// Reads the figures, or nil where /proc is not available.
    public static func read() -> ProcessMemory? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        func field(_ name: String) -> Int {
            for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
                let digits = line.dropFirst(name.count + 1).filter(\.isNumber)
                return Int(digits) ?? 0
            }
            return 0
        }
        return ProcessMemory(residentKiB: field("VmRSS"), virtualKiB: field("VmSize"), peakResidentKiB: field("VmHWM"))
    }
}
