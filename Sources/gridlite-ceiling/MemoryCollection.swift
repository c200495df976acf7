import BSON

/// The raw identity of a BSON value: its type byte followed by its encoded bytes. Two values are
/// equal for the ceiling server exactly when these bytes are equal (no numeric cross-type equality).
typealias RawValueKey = [UInt8]

/// Builds the ``RawValueKey`` of an element.
func rawKey(_ element: BSONElement) -> RawValueKey {
    var key: [UInt8] = [element.typeByte]
    key.append(contentsOf: element.rawValue)
    return key
}

/// One collection held in memory: documents in insertion order (deleted slots become nil) and
/// hash maps on `_id`, `files_id` and `filename`, the only fields GridFS looks documents up by.
struct MemoryCollection: Sendable {
    /// Document slots in insertion order; nil where a document was deleted.
    private(set) var slots: [BSONDocument?] = []
    /// `_id` → slot.
    private var byId: [RawValueKey: Int] = [:]
    /// `files_id` → slots, in insertion order.
    private var byFilesId: [RawValueKey: [Int]] = [:]
    /// `filename` → slots, in insertion order.
    private var byFilename: [RawValueKey: [Int]] = [:]
    /// Index specifications created through createIndexes (besides `_id_`).
    var indexes: [BSONDocument] = []
    /// Live documents.
    private(set) var count = 0
    /// String filenames in byte order with their slots, built on demand for prefix queries and
    /// dropped whenever a filename is added or removed.
    private var sortedNames: [(name: ArraySlice<UInt8>, slots: [Int])]?

    /// Inserts `document`; returns false when its `_id` is already present.
    mutating func insert(_ document: BSONDocument) -> Bool {
        var idKey: RawValueKey?
        var filesIdKey: RawValueKey?
        var filenameKey: RawValueKey?
        for element in document.elements {
            switch element.key {
            case "_id": idKey = rawKey(element)
            case "files_id": filesIdKey = rawKey(element)
            case "filename": filenameKey = rawKey(element)
            default: break
            }
        }
        let slot = slots.count
        if let idKey {
            guard byId[idKey] == nil else { return false }
            byId[idKey] = slot
        }
        if let filesIdKey { byFilesId[filesIdKey, default: []].append(slot) }
        if let filenameKey {
            byFilename[filenameKey, default: []].append(slot)
            sortedNames = nil
        }
        slots.append(document)
        count += 1
        return true
    }

    /// Removes the document in `slot` and its map entries.
    mutating func remove(slot: Int) {
        guard slot < slots.count, let document = slots[slot] else { return }
        for element in document.elements {
            switch element.key {
            case "_id": byId[rawKey(element)] = nil
            case "files_id": Self.drop(slot, from: &byFilesId, key: rawKey(element))
            case "filename":
                Self.drop(slot, from: &byFilename, key: rawKey(element))
                sortedNames = nil
            default: break
            }
        }
        slots[slot] = nil
        count -= 1
    }

    /// Replaces the document in `slot` (its `_id` must not change).
    mutating func replace(slot: Int, with document: BSONDocument) {
        remove(slot: slot)
        slots[slot] = nil
        // Re-insert in the same slot so insertion order is kept.
        for element in document.elements {
            switch element.key {
            case "_id": byId[rawKey(element)] = slot
            case "files_id": byFilesId[rawKey(element), default: []].append(slot)
            case "filename":
                byFilename[rawKey(element), default: []].append(slot)
                sortedNames = nil
            default: break
            }
        }
        slots[slot] = document
        count += 1
    }

    private static func drop(_ slot: Int, from map: inout [RawValueKey: [Int]], key: RawValueKey) {
        guard var list = map[key] else { return }
        if let i = list.firstIndex(of: slot) { list.remove(at: i) }
        map[key] = list.isEmpty ? nil : list
    }

    /// The slots whose documents match `filter`, in insertion order. Uses a hash map when the
    /// filter has an equality on `_id`, `files_id` or `filename`; otherwise scans.
    func matchingSlots(_ filter: MemoryFilter, limit: Int = 0) -> [Int] {
        let candidates: [Int]?
        if let key = filter.equalityKey("_id") {
            candidates = byId[key].map { [$0] } ?? []
        } else if let key = filter.equalityKey("files_id") {
            candidates = byFilesId[key] ?? []
        } else if let key = filter.equalityKey("filename") {
            candidates = byFilename[key] ?? []
        } else if let prefix = filter.prefix("filename"), let sortedNames {
            candidates = Self.slots(withPrefix: prefix, in: sortedNames)
        } else {
            candidates = nil
        }
        var result: [Int] = []
        if let candidates {
            for slot in candidates {
                if let document = slots[slot], filter.matches(document) { result.append(slot) }
                if limit > 0 && result.count >= limit { break }
            }
        } else {
            for (slot, document) in slots.enumerated() {
                if let document, filter.matches(document) { result.append(slot) }
                if limit > 0 && result.count >= limit { break }
            }
        }
        return result
    }

    /// Reserves room for `n` more documents.
    mutating func reserve(_ n: Int) { slots.reserveCapacity(slots.count + n) }

    /// Deletes up to `limit` (0 = all) matching documents; returns how many.
    mutating func removeMatching(_ filter: MemoryFilter, limit: Int) -> Int {
        let found = matchingSlots(filter, limit: limit)
        for slot in found { remove(slot: slot) }
        return found.count
    }

    /// Rewrites up to `limit` (0 = all) matching documents with `change`; returns how many matched.
    mutating func updateMatching(_ filter: MemoryFilter, limit: Int, _ change: (inout BSONDocument) -> Void) -> Int {
        let found = matchingSlots(filter, limit: limit)
        for slot in found {
            guard var document = slots[slot] else { continue }
            change(&document)
            replace(slot: slot, with: document)
        }
        return found.count
    }

    /// Builds the sorted filename list if a prefix query on `filename` will want it.
    mutating func prepare(for filter: MemoryFilter) {
        guard sortedNames == nil, filter.prefix("filename") != nil else { return }
        sortedNames = byFilename.compactMap { key, slots in
            // A string key: type 0x02, int32 length, bytes, zero.
            key.first == BSONType.string.rawValue && key.count >= 6 ? (key[5..<(key.count - 1)], slots) : nil
        }.sorted { $0.name.lexicographicallyPrecedes($1.name) }
    }

    /// Slots of names starting with `prefix`, in insertion order (binary search, then a short walk).
    private static func slots(withPrefix prefix: [UInt8], in names: [(name: ArraySlice<UInt8>, slots: [Int])]) -> [Int] {
        var low = 0
        var high = names.count
        while low < high {
            let mid = (low + high) / 2
            if names[mid].name.lexicographicallyPrecedes(prefix) { low = mid + 1 } else { high = mid }
        }
        var found: [Int] = []
        while low < names.count, names[low].name.starts(with: prefix) {
            found.append(contentsOf: names[low].slots)
            low += 1
        }
        return found.sorted()
    }
}
