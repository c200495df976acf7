import BSON
import Query
import Storage

/// One index of an in-memory collection: its (encoded key, record id) pairs kept sorted, the same
/// order a SQLite or PostgreSQL index gives.
struct MemoryIndex: Sendable {
    /// One key of one record.
    struct Entry: Sendable {
        var key: [UInt8]
        var id: RecordID
    }

    /// The definition.
    var spec: IndexSpec
    /// True once some document produced several keys.
    var multikey = false
    /// Sorted by (key, id).
    private(set) var entries: [Entry] = []

    init(spec: IndexSpec) {
        self.spec = spec
    }

    /// The planner's view.
    var descriptor: IndexDescriptor {
        IndexDescriptor(name: spec.name, key: spec.key, unique: spec.unique, multikey: multikey)
    }

    /// Bytes the keys take (for statistics).
    var byteCount: Int64 { entries.reduce(0) { $0 &+ Int64($1.key.count) &+ 8 } }

    /// The encoded keys `doc` has in this index (one per array element for multikey paths).
    func keys(for doc: BSONDocument) throws -> [[UInt8]] {
        if spec.name == "_id_" { return [IndexKeyEncoder.encode(doc["_id"] ?? .null)] }
        return try IndexKeyEncoder.keys(for: doc, paths: spec.key.map(\.path), descending: spec.key.map { $0.direction < 0 })
    }

    /// True when a unique index already holds one of `keys` for a record other than `id`.
    func conflicts(_ keys: [[UInt8]], excluding id: RecordID?) -> [UInt8]? {
        guard spec.unique else { return nil }
        for key in keys {
            var i = lowerBound(key, 0)
            while i < entries.count && entries[i].key == key {
                if entries[i].id != id { return key }
                i += 1
            }
        }
        return nil
    }

    mutating func add(_ keys: [[UInt8]], id: RecordID) {
        if keys.count > 1 { multikey = true }
        for key in keys {
            let i = lowerBound(key, id)
            if i < entries.count && entries[i].key == key && entries[i].id == id { continue }
            entries.insert(Entry(key: key, id: id), at: i)
        }
    }

    mutating func remove(_ keys: [[UInt8]], id: RecordID) {
        for key in keys {
            let i = lowerBound(key, id)
            if i < entries.count && entries[i].key == key && entries[i].id == id { entries.remove(at: i) }
        }
    }

    /// The first position whose (key, id) is not below (key, id).
    func lowerBound(_ key: [UInt8], _ id: RecordID) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let mid = low + (high - low) / 2
            if Self.precedes(entries[mid], key, id) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The first position whose key is at least `key` (any id).
    func lowerBound(_ key: [UInt8]) -> Int { lowerBound(key, .min) }

    /// The first position past every entry at or before (key, id).
    func upperBound(_ key: [UInt8], _ id: RecordID) -> Int {
        id == .max ? lowerBound(key, .max) + (lowerBoundMatches(key, .max) ? 1 : 0) : lowerBound(key, id + 1)
    }

    private func lowerBoundMatches(_ key: [UInt8], _ id: RecordID) -> Bool {
        let i = lowerBound(key, id)
        return i < entries.count && entries[i].key == key && entries[i].id == id
    }

    private static func precedes(_ e: Entry, _ key: [UInt8], _ id: RecordID) -> Bool {
        if e.key == key { return e.id < id }
        return e.key.lexicographicallyPrecedes(key)
    }
}
