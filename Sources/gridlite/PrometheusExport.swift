import Commands
import CoreMetrics
import Prometheus
import SQLiteStorage
import Storage

/// The Prometheus backend of swift-metrics, bootstrapped once before anything makes an
/// instrument (the command observer, the HTTP gateway), and the text `/metrics` serves: every
/// swift-metrics instrument plus gauges read at scrape time (connections, storage sizes, cursors).
struct PrometheusExport: Sendable {
    let registry: PrometheusCollectorRegistry

    /// Bootstraps swift-metrics with a Prometheus registry (call once, first).
    static func bootstrap() -> PrometheusExport {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Command and request durations from 100 µs to 10 s.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(10),
            .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(10),
        ]
        MetricsSystem.bootstrap(factory)
        return PrometheusExport(registry: registry)
    }

    /// A scrape-time gauge named `<base>_<unit>` with its `# HELP` line.
    private func gauge(_ name: (base: String, unit: String, help: String), _ labels: [(String, String)] = []) -> Prometheus.Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(metricName: name.base, unitName: name.unit, helpText: name.help),
                           labels: labels)
    }

    /// The text format of every metric, after refreshing the scrape-time gauges.
    func text(dataPath: String, counters: ServerCounters, cursors: CursorRegistry, storage: any StorageEngine) async -> String {
        let sizes = DataDirectory.sizes(dataPath)
        // Live and dead chunk-payload bytes of the segment files (the SQLite engine's; PostgreSQL
        // keeps payloads in its own tables and has no such split).
        if let sqlite = storage as? SQLiteStorageEngine, let space = try? await sqlite.payloadSpace() {
            let payload = ("gridlite_storage_payload", "bytes", "Chunk payload bytes in the segment files, live or dead (reclaimed by compaction).")
            gauge(payload, [("state", "live")]).set(Double(space.liveBytes))
            gauge(payload, [("state", "dead")]).set(Double(space.deadBytes))
        }
        let files = ("gridlite_storage", "bytes", "Bytes on disk of the data directory, by file kind.")
        gauge(files, [("file", "database")]).set(Double(sizes.database))
        gauge(files, [("file", "wal")]).set(Double(sizes.wal))
        gauge(files, [("file", "segments")]).set(Double(sizes.segmentBytes))
        gauge(("gridlite_storage_segment", "files", "Segment files in the data directory.")).set(Double(sizes.segments))
        gauge(("gridlite_wire", "connections", "Open wire-protocol connections."))
            .set(Double(ServerCounters.read(counters.currentConnections)))
        gauge(("gridlite_wire_connections", "total", "Wire-protocol connections accepted since start."))
            .set(Double(ServerCounters.read(counters.totalConnections)))
        gauge(("gridlite_cursors", "open", "Open cursors.")).set(Double(await cursors.openCount))
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
