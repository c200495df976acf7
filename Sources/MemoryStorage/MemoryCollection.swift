import BSON
import Query
import Storage

/// One collection in memory: documents by record id, ids in insertion order, and sorted indexes
/// (`_id_` first). A value: a write works on a uniquely owned copy, so nothing is copied.
struct MemoryCollection: Sendable {
    var namespace: Namespace
    /// Creation options.
    var options: BSONDocument
    /// Stable identifier.
    let uuid: [UInt8]
    var docs: [RecordID: BSONDocument] = [:]
    /// Every record id, ascending (insertion order).
    var order: [RecordID] = []
    var nextID: RecordID = 1
    var indexes: [MemoryIndex]

    init(namespace: Namespace, options: BSONDocument) {
        self.namespace = namespace
        self.options = options
        self.uuid = (0..<16).map { _ in UInt8.random(in: 0...255) }
        self.indexes = [MemoryIndex(spec: DuplicateKeyReport.idIndexSpec)]
    }

    /// Sum of document sizes.
    var dataSize: Int64 { docs.values.reduce(0) { $0 &+ Int64($1.bytes.count) } }

    /// Position of `id` in ``order`` (or where it would go).
    func orderIndex(_ id: RecordID) -> Int {
        var low = 0
        var high = order.count
        while low < high {
            let mid = low + (high - low) / 2
            if order[mid] < id { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

extension MemoryCollection: RecordScanner {
    func scan(_ plan: AccessPlan, from position: inout ScanPosition, visit: (RecordID, BSONDocument) throws -> ScanStep) throws {
        guard !position.done else { return }
        switch plan.scan {
        case .collection:
            var i = position.lastRecord.map { orderIndex($0 &+ 1) } ?? 0
            while i < order.count {
                let id = order[i]
                i += 1
                guard let doc = docs[id] else { continue }
                let step = try visit(id, doc)
                if step == .stopBefore { return }
                position.lastRecord = id
                if step == .stopAfter { return }
            }
            position.done = true
        case .index(let name, let ranges, let reverse):
            guard let index = indexes.first(where: { $0.spec.name == name }) else {
                throw StorageError(.queryPlanKilled, "index '\(name)' dropped")
            }
            let ordered = reverse ? Array(ranges.reversed()) : ranges
            while position.range < ordered.count {
                let finished = reverse
                    ? try scanBackward(index, ordered[position.range], &position, visit)
                    : try scanForward(index, ordered[position.range], &position, visit)
                guard finished else { return }
                position.range += 1
                position.lastKey = nil
                position.lastRecord = nil
            }
            position.done = true
        }
    }

    /// One range in ascending (key, id) order; true when it ran to its end.
    private func scanForward(_ index: MemoryIndex, _ range: KeyRange, _ position: inout ScanPosition,
                             _ visit: (RecordID, BSONDocument) throws -> ScanStep) throws -> Bool {
        var i = range.lower.map { index.lowerBound($0) } ?? 0
        if let key = position.lastKey, let id = position.lastRecord { i = max(i, index.upperBound(key, id)) }
        let entries = index.entries
        while i < entries.count {
            let entry = entries[i]
            i += 1
            if let upper = range.upper, !entry.key.lexicographicallyPrecedes(upper) { return true }
            if try consume(entry, &position, visit) == false { return false }
        }
        return true
    }

    /// One range in descending (key, id) order; true when it ran to its end.
    private func scanBackward(_ index: MemoryIndex, _ range: KeyRange, _ position: inout ScanPosition,
                              _ visit: (RecordID, BSONDocument) throws -> ScanStep) throws -> Bool {
        let entries = index.entries
        var end = range.upper.map { index.lowerBound($0) } ?? entries.count
        if let key = position.lastKey, let id = position.lastRecord { end = min(end, index.lowerBound(key, id)) }
        var i = end
        while i > 0 {
            i -= 1
            let entry = entries[i]
            if let lower = range.lower, entry.key.lexicographicallyPrecedes(lower) { return true }
            if try consume(entry, &position, visit) == false { return false }
        }
        return true
    }

    /// Visits one index entry; false when the visitor stopped the scan.
    private func consume(_ entry: MemoryIndex.Entry, _ position: inout ScanPosition,
                         _ visit: (RecordID, BSONDocument) throws -> ScanStep) throws -> Bool {
        var step = ScanStep.next
        if let doc = docs[entry.id] {
            step = try visit(entry.id, doc)
            if step == .stopBefore { return false }
        }
        position.lastKey = entry.key
        position.lastRecord = entry.id
        return step != .stopAfter
    }
}
