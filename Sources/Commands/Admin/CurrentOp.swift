import BSON
import Foundation
import Query

/// `currentOp`: the operations in flight on every connection, in mongod's `inprog` shape — who
/// (peer, `appName`, client metadata) runs what (`op`, `ns`, `command`) for how long. Read from
/// the live-connection registry the dispatcher maintains; idle connections are listed with
/// `$all: true` or `idleConnections: true`. Fields that are not options filter the entries as a
/// query would (`{currentOp: 1, "command.find": "fs.files"}`), as in mongod.
///
/// Commands longer than 1000 bytes are shown as `{$truncated: "<text>"}`. Once authentication
/// lands, secrets in commands (SASL payloads, passwords) must be redacted here.
public enum CurrentOpCommand: CommandHandler {
    public static let names = ["currentOp"]
    public static let help = "Lists the operations in progress on every connection."
    public static let parameters = ParameterSpec.lenient
    public static let adminOnly = true

    /// Options of the command; every other field is a filter on the entries.
    static let options: Set<String> = [
        "$all", "$ownOps", "$truncateOps", "$local", "idleConnections", "idleSessions", "idleCursors",
        "localOps", "backtrace", "allUsers", "truncateOps",
    ]
    /// Longest command shown whole (mongod's limit for `currentOp`).
    static let maxCommandBytes = 1000

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let includeIdle = try request.bool("$all", default: false) || request.bool("idleConnections", default: false)
        let ownOnly = try request.bool("$ownOps", default: false)
        var filterDoc = BSONDocument()
        for element in request.body.elements {
            let key = element.key
            if key == request.name || options.contains(key) || ParameterSpec.generic.contains(key) { continue }
            filterDoc.append(key, element.value)
        }
        let filter = filterDoc.isEmpty ? nil : try Filter(filterDoc)

        let now = ContinuousClock.now
        let nowDate = Date()
        let time = isoTime(nowDate)
        var inprog: [BSONValue] = []
        for entry in context.environment.connections.snapshot() {
            if ownOnly && entry.session.connection.id != context.connection.id { continue }
            if entry.operation == nil && !includeIdle { continue }
            let doc = describe(entry, host: context.environment.hostAndPort, now: now, time: time)
            if let filter, !filter.matches(doc) { continue }
            inprog.append(.document(doc))
        }
        return ["inprog": .array(inprog)]
    }

    /// One `inprog` entry.
    static func describe(
        _ entry: ConnectionActivity.Snapshot, host: String, now: ContinuousClock.Instant, time: String
    ) -> BSONDocument {
        let session = entry.session
        let id = session.connection.id
        var doc: BSONDocument = [
            "type": "op",
            "host": .string(host),
            "desc": .string("conn\(id)"),
            "connectionId": .int64(id),
            "client": .string(session.connection.remoteAddress),
        ]
        if let tls = session.connection.tls {
            // gridlite's own field (mongod's currentOp has none): the connection's TLS version and client certificate.
            var facts: BSONDocument = ["version": .string(tls.version)]
            if let subject = tls.clientCertificateSubject { facts.append("clientCertificateSubject", .string(subject)) }
            doc.append("tls", .document(facts))
        }
        if let app = session.applicationName { doc.append("appName", .string(app)) }
        if let metadata = session.clientMetadata { doc.append("clientMetadata", .document(metadata.document)) }
        doc.append("active", .bool(entry.operation != nil))
        doc.append("currentOpTime", .string(time))
        guard let op = entry.operation else { return doc }
        let running = now - op.started
        let micros = max(0, running.nanoseconds / 1000)
        doc.append("threaded", .bool(true))
        doc.append("opid", .int64(op.id))
        doc.append("secs_running", .int64(micros / 1_000_000))
        doc.append("microsecs_running", .int64(micros))
        doc.append("op", .string(opType(op.name)))
        let request = try? CommandRequest(body: op.command, database: op.database)
        doc.append("ns", .string(request.map { SlowOperationLog.namespace(of: $0) } ?? "\(op.database).$cmd"))
        doc.append("redacted", .bool(false))
        if op.command.bytes.count > maxCommandBytes {
            let text = String(op.command.relaxedExtendedJSON.prefix(maxCommandBytes))
            doc.append("command", .document(["$truncated": .string(text)]))
        } else {
            doc.append("command", .document(op.command))
        }
        doc.append("numYields", .int32(0))
        doc.append("locks", .document([:]))
        doc.append("waitingForLock", .bool(false))
        doc.append("lockStats", .document([:]))
        return doc
    }

    /// mongod's `op` for a command name.
    static func opType(_ name: String) -> String {
        switch name {
        case "find": return "query"
        case "getMore": return "getmore"
        case "insert": return "insert"
        case "update": return "update"
        case "delete": return "remove"
        default: return "command"
        }
    }

    /// The time as mongod prints `currentOpTime` (ISO 8601 with milliseconds and offset).
    static func isoTime(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
