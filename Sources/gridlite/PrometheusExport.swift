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

    /// The text format of every metric, after refreshing the scrape-time gauges.
    func text(dataPath: String, counters: ServerCounters, cursors: CursorRegistry, storage: any StorageEngine) async -> String {
        let sizes = DataDirectory.sizes(dataPath)
        // Live and dead chunk-payload bytes of the segment files (the SQLite engine's; PostgreSQL
        // keeps payloads in its own tables and has no such split).
        if let sqlite = storage as? SQLiteStorageEngine, let space = try? await sqlite.payloadSpace() {
            registry.makeGauge(name: "gridlite_storage_payload_bytes", labels: [("state", "live")]).set(Double(space.liveBytes))
            registry.makeGauge(name: "gridlite_storage_payload_bytes", labels: [("state", "dead")]).set(Double(space.deadBytes))
        }
        registry.makeGauge(name: "gridlite_storage_bytes", labels: [("file", "database")]).set(Double(sizes.database))
        registry.makeGauge(name: "gridlite_storage_bytes", labels: [("file", "wal")]).set(Double(sizes.wal))
        registry.makeGauge(name: "gridlite_storage_bytes", labels: [("file", "segments")]).set(Double(sizes.segmentBytes))
        registry.makeGauge(name: "gridlite_storage_segment_files").set(Double(sizes.segments))
        registry.makeGauge(name: "gridlite_wire_connections").set(Double(ServerCounters.read(counters.currentConnections)))
        registry.makeGauge(name: "gridlite_wire_connections_total").set(Double(ServerCounters.read(counters.totalConnections)))
        registry.makeGauge(name: "gridlite_cursors_open").set(Double(await cursors.openCount))
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
