import CoreMetrics

/// The gateway's swift-metrics instruments (the executable bootstraps the Prometheus backend):
/// requests by route, method and status with their duration, bytes sent and received, GridFS
/// bytes and files through HTTP, connections, errors by status.
public final class GatewayMetrics: Sendable {
    private let factory: any MetricsFactory
    private let sent: Counter
    private let received: Counter
    private let downloaded: Counter
    private let uploaded: Counter
    private let filesUploaded: Counter
    private let filesDownloaded: Counter
    private let filesDeleted: Counter
    private let connectionsTotal: Counter
    private let connectionsOpen: Meter
    private let aborted: Counter

    /// Instruments over `factory` (the bootstrapped one by default).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        sent = Counter(label: "gridlite_http_bytes_sent_total", factory: factory)
        received = Counter(label: "gridlite_http_bytes_received_total", factory: factory)
        downloaded = Counter(label: "gridlite_gridfs_bytes_total", dimensions: [("front", "http"), ("direction", "download")], factory: factory)
        uploaded = Counter(label: "gridlite_gridfs_bytes_total", dimensions: [("front", "http"), ("direction", "upload")], factory: factory)
        filesUploaded = Counter(label: "gridlite_gridfs_files_total", dimensions: [("front", "http"), ("op", "upload")], factory: factory)
        filesDownloaded = Counter(label: "gridlite_gridfs_files_total", dimensions: [("front", "http"), ("op", "download")], factory: factory)
        filesDeleted = Counter(label: "gridlite_gridfs_files_total", dimensions: [("front", "http"), ("op", "delete")], factory: factory)
        connectionsTotal = Counter(label: "gridlite_http_connections_total", factory: factory)
        connectionsOpen = Meter(label: "gridlite_http_connections", factory: factory)
        aborted = Counter(label: "gridlite_http_streams_aborted_total", factory: factory)
    }

    /// One answered request, counted when its head is ready (its route is a template such as
    /// `file_by_name`, never a raw path, so clients cannot grow the label set).
    func request(route: String, method: String, status: Int) {
        let dims = [("route", route), ("method", method), ("status", String(status))]
        Counter(label: "gridlite_http_requests_total", dimensions: dims, factory: factory).increment()
        if status >= 400 {
            Counter(label: "gridlite_http_errors_total", dimensions: [("code", String(status))], factory: factory).increment()
        }
    }

    /// A request's whole duration: from the head's arrival to the last body byte handed to the
    /// connection (or the body's failure).
    func requestDuration(route: String, _ duration: Duration) {
        CoreMetrics.Timer(label: "gridlite_http_request_duration", dimensions: [("route", route)], factory: factory)
            .recordNanoseconds(Self.nanoseconds(duration))
    }

    func bytesSent(_ n: Int64) { if n > 0 { sent.increment(by: Int(clamping: n)) } }
    func bytesReceived(_ n: Int) { if n > 0 { received.increment(by: n) } }
    func gridFSDownloaded(_ n: Int) { if n > 0 { downloaded.increment(by: n) } }
    func gridFSUploaded(_ n: Int) { if n > 0 { uploaded.increment(by: n) } }
    func fileUploaded() { filesUploaded.increment() }
    func fileDownloaded() { filesDownloaded.increment() }
    func fileDeleted() { filesDeleted.increment() }
    func streamAborted() { aborted.increment() }
    func connectionOpened() {
        connectionsTotal.increment()
        connectionsOpen.increment()
    }
    func connectionClosed() { connectionsOpen.decrement() }

    static func nanoseconds(_ d: Duration) -> Int64 {
        let (s, atto) = d.components
        let (ns, overflow) = s.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? Int64.max : ns &+ atto / 1_000_000_000
    }
}
