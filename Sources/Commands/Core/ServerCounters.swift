import Synchronization

/// Process-wide counters reported by `serverStatus`: connections, network, operation and document
/// counts. Lock-free atomics, so counting costs nothing measurable on the request path.
///
/// Commands never bump these themselves: the connection counts bytes and requests, and the
/// dispatcher's observation point counts operations and documents (``CommandObserver``).
public final class ServerCounters: Sendable {
    /// Open connections.
    public let currentConnections = Atomic<Int>(0)
    /// Connections accepted since start.
    public let totalConnections = Atomic<Int>(0)
    /// `opcounters.insert`: insert statements attempted (one per document).
    public let inserts = Atomic<Int>(0)
    /// `opcounters.query`: find commands.
    public let queries = Atomic<Int>(0)
    /// `opcounters.update`: update statements attempted.
    public let updates = Atomic<Int>(0)
    /// `opcounters.delete`: delete statements attempted.
    public let deletes = Atomic<Int>(0)
    /// `opcounters.getmore`.
    public let getMores = Atomic<Int>(0)
    /// `opcounters.command`: every other command.
    public let commands = Atomic<Int>(0)
    /// `network.bytesIn`: bytes of every frame read, as messages (an OP_COMPRESSED counts as the
    /// message it wraps, as on mongod).
    public let bytesIn = Atomic<Int>(0)
    /// `network.bytesOut`: bytes of every frame written, as messages (before compression).
    public let bytesOut = Atomic<Int>(0)
    /// `network.physicalBytesIn`: bytes read off the socket (compressed frames as they came).
    public let physicalBytesIn = Atomic<Int>(0)
    /// `network.physicalBytesOut`: bytes written to the socket (compressed replies as sent).
    public let physicalBytesOut = Atomic<Int>(0)
    /// `network.compression`: bytes through each compressor and decompressor.
    public let compression = CompressionCounters()
    /// `network.numRequests`: frames read.
    public let requests = Atomic<Int>(0)
    /// `metrics.document.returned`.
    public let documentsReturned = Atomic<Int>(0)
    /// `metrics.document.inserted`.
    public let documentsInserted = Atomic<Int>(0)
    /// `metrics.document.updated`.
    public let documentsUpdated = Atomic<Int>(0)
    /// `metrics.document.deleted`.
    public let documentsDeleted = Atomic<Int>(0)
    /// Last connection id handed out.
    private let lastConnectionId = Atomic<Int64>(0)

    /// Creates zeroed counters.
    public init() {}

    /// Registers a new connection and returns its id (1, 2, 3…).
    public func connectionOpened() -> Int64 {
        currentConnections.add(1, ordering: .relaxed)
        totalConnections.add(1, ordering: .relaxed)
        return lastConnectionId.add(1, ordering: .relaxed).newValue
    }

    /// Registers a closed connection.
    public func connectionClosed() {
        currentConnections.subtract(1, ordering: .relaxed)
    }

    /// Counts one request frame read from a client: `bytes` as a message, `physicalBytes` (when it
    /// came compressed) as read off the socket.
    public func received(bytes: Int, physicalBytes: Int? = nil) {
        bytesIn.wrappingAdd(bytes, ordering: .relaxed)
        physicalBytesIn.wrappingAdd(physicalBytes ?? bytes, ordering: .relaxed)
        requests.wrappingAdd(1, ordering: .relaxed)
    }

    /// Counts one frame written to a client: `bytes` as a message, `physicalBytes` (when it went
    /// compressed) as written to the socket.
    public func sent(bytes: Int, physicalBytes: Int? = nil) {
        bytesOut.wrappingAdd(bytes, ordering: .relaxed)
        physicalBytesOut.wrappingAdd(physicalBytes ?? bytes, ordering: .relaxed)
    }

    /// Counts a command in `opcounters` as it starts, as mongod does (so `serverStatus` counts
    /// itself): `find` as a query, `getMore` as a getmore, everything else (failed and unknown
    /// commands too) as a command. Writes are counted when they finish: see ``countWrites(_:statements:)``.
    func countStarted(_ name: String) {
        switch name {
        case "find": queries.wrappingAdd(1, ordering: .relaxed)
        case "getMore": getMores.wrappingAdd(1, ordering: .relaxed)
        case "insert", "update", "delete": break
        default: commands.wrappingAdd(1, ordering: .relaxed)
        }
    }

    /// Counts a write command's statements attempted (one per document for inserts), as mongod does.
    func countWrites(_ name: String, statements: Int) {
        guard statements > 0 else { return }
        switch name {
        case "insert": inserts.wrappingAdd(statements, ordering: .relaxed)
        case "update": updates.wrappingAdd(statements, ordering: .relaxed)
        case "delete": deletes.wrappingAdd(statements, ordering: .relaxed)
        default: break
        }
    }

    /// Adds a command's documents to `metrics.document`.
    func countDocuments(_ docs: DocumentCounts) {
        if docs.returned > 0 { documentsReturned.wrappingAdd(docs.returned, ordering: .relaxed) }
        if docs.inserted > 0 { documentsInserted.wrappingAdd(docs.inserted, ordering: .relaxed) }
        if docs.updated > 0 { documentsUpdated.wrappingAdd(docs.updated, ordering: .relaxed) }
        if docs.deleted > 0 { documentsDeleted.wrappingAdd(docs.deleted, ordering: .relaxed) }
    }

    /// A counter's value, for reports.
    public static func read(_ counter: borrowing Atomic<Int>) -> Int64 {
        Int64(counter.load(ordering: .relaxed))
    }
}
