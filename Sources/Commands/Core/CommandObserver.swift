import BSON
import CoreMetrics

/// What only the connection knows about a request: its size on the wire and how its reply is
/// framed. Fed into the observation record so bytes in/out are counted per command.
public struct WireFacts: Sendable {
    /// The request frame's length (header included).
    public var requestBytes: Int
    /// Bytes the framing adds around the reply document (OP_MSG 21, OP_REPLY 36), or nil when no
    /// reply is sent (`moreToCome`).
    public var replyFramingBytes: Int?

    /// Creates wire facts.
    public init(requestBytes: Int, replyFramingBytes: Int?) {
        self.requestBytes = requestBytes
        self.replyFramingBytes = replyFramingBytes
    }

    /// For commands run in process (tests, tools): nothing crossed a socket.
    public static let inProcess = WireFacts(requestBytes: 0, replyFramingBytes: nil)
}

/// One command as the observation point saw it.
public struct CommandRecord: Sendable {
    /// The command name as sent.
    public var name: String
    /// The target database.
    public var database: String
    /// Time from dispatch to reply document.
    public var duration: Duration
    /// 0 when the command succeeded, else the MongoDB error code of its `ok: 0` reply.
    public var code: Int32
    /// Request bytes on the wire.
    public var requestBytes: Int
    /// Reply bytes on the wire (0 when none was sent).
    public var replyBytes: Int
    /// Documents, statements and write counts read from the request and reply.
    public var documents: DocumentCounts
    /// GridFS chunk bytes and files the command moved.
    public var gridFS: GridFSTraffic = .none

    /// True when the reply was `ok: 1`.
    public var succeeded: Bool { code == 0 }
}

/// The swift-metrics instruments of one command name, made once so the request path only
/// increments (no factory lookups, no dimension arrays built per command).
final class CommandInstruments: Sendable {
    let succeeded: Counter
    let failed: Counter
    let duration: CoreMetrics.Timer
    let requestBytes: Counter
    let replyBytes: Counter
    let documentsReturned: Counter
    let documentsWritten: Counter

    init(command: String, factory: any MetricsFactory) {
        let dims = [("command", command)]
        succeeded = Counter(label: "gridlite_commands_total", dimensions: dims + [("result", "ok")], factory: factory)
        failed = Counter(label: "gridlite_commands_total", dimensions: dims + [("result", "error")], factory: factory)
        duration = CoreMetrics.Timer(label: "gridlite_command_duration", dimensions: dims, factory: factory)
        requestBytes = Counter(label: "gridlite_command_request_bytes_total", dimensions: dims, factory: factory)
        replyBytes = Counter(label: "gridlite_command_reply_bytes_total", dimensions: dims, factory: factory)
        documentsReturned = Counter(label: "gridlite_documents_returned_total", dimensions: dims, factory: factory)
        documentsWritten = Counter(label: "gridlite_documents_written_total", dimensions: dims, factory: factory)
    }
}

/// The observation point's sinks: swift-metrics instruments per command (an exporter such as
/// Prometheus is bootstrapped by the executable, before the first dispatcher is made) and the
/// `serverStatus` counters (`opcounters`, `metrics.document`).
public final class CommandObserver: Sendable {
    private let instruments: [String: CommandInstruments]
    private let unknown: CommandInstruments
    private let factory: any MetricsFactory
    private let gridFSUploaded: Counter
    private let gridFSDownloaded: Counter
    private let gridFSFiles: Counter

    /// Instruments for every command of `table` (aliases share their command's), and one labelled
    /// `unknown` for names no handler claims (so clients cannot grow the label set).
    public init(table: [any CommandHandler.Type] = CommandTable.all, factory: any MetricsFactory = MetricsSystem.factory) {
        var map: [String: CommandInstruments] = [:]
        for handler in table {
            guard let canonical = handler.names.first else { continue }
            let made = CommandInstruments(command: canonical, factory: factory)
            for name in handler.names { map[name] = made }
        }
        instruments = map
        unknown = CommandInstruments(command: "unknown", factory: factory)
        self.factory = factory
        let wire = ("front", "wire")
        gridFSUploaded = Counter(label: "gridlite_gridfs_bytes_total", dimensions: [wire, ("direction", "upload")], factory: factory)
        gridFSDownloaded = Counter(label: "gridlite_gridfs_bytes_total", dimensions: [wire, ("direction", "download")], factory: factory)
        gridFSFiles = Counter(label: "gridlite_gridfs_files_total", dimensions: [wire, ("op", "upload")], factory: factory)
    }

    /// The observer of ``CommandTable/all`` over the bootstrapped metrics backend, made on first use.
    public static let standard = CommandObserver()

    /// Counts a command as it starts (`opcounters` other than writes).
    func started(_ name: String, counters: ServerCounters) {
        counters.countStarted(name)
    }

    /// Records one finished command: metrics, write `opcounters`, `metrics.document`.
    func record(_ record: CommandRecord, counters: ServerCounters) {
        let inst = instruments[record.name] ?? unknown
        if record.succeeded {
            inst.succeeded.increment()
        } else {
            inst.failed.increment()
            Counter(
                label: "gridlite_command_errors_total",
                dimensions: [("command", inst === unknown ? "unknown" : record.name), ("code", "\(record.code)")],
                factory: factory
            ).increment()
        }
        inst.duration.recordNanoseconds(record.duration.nanoseconds)
        if record.requestBytes > 0 { inst.requestBytes.increment(by: record.requestBytes) }
        if record.replyBytes > 0 { inst.replyBytes.increment(by: record.replyBytes) }
        let docs = record.documents
        if docs.returned > 0 { inst.documentsReturned.increment(by: docs.returned) }
        let written = docs.inserted &+ docs.updated &+ docs.deleted
        if written > 0 { inst.documentsWritten.increment(by: written) }
        let gridFS = record.gridFS
        if gridFS.uploadedBytes > 0 { gridFSUploaded.increment(by: gridFS.uploadedBytes) }
        if gridFS.downloadedBytes > 0 { gridFSDownloaded.increment(by: gridFS.downloadedBytes) }
        if gridFS.filesUploaded > 0 { gridFSFiles.increment(by: gridFS.filesUploaded) }
        counters.countWrites(record.name, statements: docs.statements)
        counters.countDocuments(docs)
    }
}

extension Duration {
    /// The duration in whole nanoseconds, saturating at `Int64.max`.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? Int64.min : Int64.max }
        return ns &+ attoseconds / 1_000_000_000
    }

    /// The duration in milliseconds (fractional).
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
