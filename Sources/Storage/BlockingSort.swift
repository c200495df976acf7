import BSON
import Query

/// mongod's default `internalQueryMaxBlockingSortMemoryUsageBytes`: 100 MiB.
public let blockingSortMemoryLimit = 104_857_600

/// MongoDB's in-memory ("blocking") sort, for queries whose plan does not already give the order:
/// stable (ties keep arrival order), and bounded like mongod's
/// `internalQueryMaxBlockingSortMemoryUsageBytes` (100 MiB by default). Beyond the bound it fails
/// with 292 QueryExceededMemoryLimitNoDiskUseAllowed and mongod's message; gridlite never spills
/// to disk, so `allowDiskUse` cannot lift the bound.
///
/// With a limit it keeps only the best `skip + limit` documents (mongod's top-k sort), so
/// `sort(...).limit(k)` over any amount of data needs memory for k documents only.
public struct BlockingSort<Payload> {
    /// One kept document.
    public struct Item {
        /// Its sort key.
        let key: [BSONValue]
        /// Arrival order (the tie-break that makes the sort stable).
        let order: Int
        /// The document.
        public let doc: BSONDocument
        /// What the caller attached (a record id, or nothing).
        public let payload: Payload
    }

    private let sort: SortSpec
    private let skip: Int
    /// `skip + limit` when a limit applies: how many documents can matter.
    private let keep: Int?
    /// How many documents to gather before trimming back to `keep` (twice `keep`, at least 64).
    private let trimAt: Int
    private let memoryLimit: Int
    private var items: [Item] = []
    private var bytes = 0
    private var arrivals = 0

    /// A sort by `sort` that will return documents after `skip`, at most `limit` (0 = all), and
    /// fails once the documents it must hold exceed `memoryLimit` bytes.
    public init(sort: SortSpec, skip: Int, limit: Int, memoryLimit: Int = blockingSortMemoryLimit) {
        self.sort = sort
        self.skip = max(0, skip)
        let (sum, overflow) = max(0, skip).addingReportingOverflow(limit)
        let (twice, overflowTwice) = sum.multipliedReportingOverflow(by: 2)
        self.keep = limit > 0 && !overflow && !overflowTwice ? sum : nil
        self.trimAt = max(twice, 64)
        self.memoryLimit = memoryLimit
    }

    /// Adds a document; throws 292 when the documents held exceed the memory limit.
    public mutating func add(_ doc: BSONDocument, _ payload: Payload) throws {
        items.append(Item(key: sort.sortKey(for: doc), order: arrivals, doc: doc, payload: payload))
        arrivals &+= 1
        bytes &+= doc.bytes.count
        if let keep, items.count >= trimAt || (bytes > memoryLimit && items.count > keep) {
            trim(to: keep)
        }
        guard bytes <= memoryLimit else {
            throw StorageError(.queryExceededMemoryLimit,
                               "Sort exceeded memory limit of \(memoryLimit) bytes, but did not opt in to external sorting.")
        }
    }

    /// The documents in order, after skip and limit.
    public func finish() -> [Item] {
        let ordered = items.sorted(by: precedes)
        let afterSkip = ordered.dropFirst(skip)
        if let keep { return Array(afterSkip.prefix(keep - skip)) }
        return Array(afterSkip)
    }

    private func precedes(_ a: Item, _ b: Item) -> Bool {
        let c = sort.compareKeys(a.key, b.key)
        return c != 0 ? c < 0 : a.order < b.order
    }

    private mutating func trim(to count: Int) {
        items.sort(by: precedes)
        if items.count > count { items.removeSubrange(count...) }
        bytes = items.reduce(0) { $0 &+ $1.doc.bytes.count }
    }
}

extension BlockingSort where Payload == Void {
    /// Adds a document with nothing attached.
    public mutating func add(_ doc: BSONDocument) throws { try add(doc, ()) }
}
