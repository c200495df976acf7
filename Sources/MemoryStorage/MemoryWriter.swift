import BSON
import Query
import Storage

/// The in-memory ``CollectionWriter``: stores documents and their index keys, enforces unique
/// keys, and undoes its own writes when a savepoint (``atomically(_:)``) or the whole command fails.
struct MemoryWriter: CollectionWriter {
    var collection: MemoryCollection
    /// What to undo, newest last.
    private var undo: [Undo] = []

    private enum Undo {
        case inserted(RecordID, BSONDocument)
        case replaced(RecordID, old: BSONDocument, new: BSONDocument)
        case deleted(RecordID, BSONDocument)
    }

    init(collection: MemoryCollection) {
        self.collection = collection
    }

    var namespace: Namespace { collection.namespace }

    var plannableIndexes: [IndexDescriptor] { collection.indexes.map(\.descriptor) }

    func indexSpec(named name: String) -> IndexSpec? {
        collection.indexes.first { $0.spec.name == name }?.spec
    }

    func scan(_ plan: AccessPlan, from position: inout ScanPosition, visit: (RecordID, BSONDocument) throws -> ScanStep) throws {
        try collection.scan(plan, from: &position, visit: visit)
    }

    func load(_ id: RecordID) throws -> BSONDocument? { collection.docs[id] }

    mutating func insert(_ document: BSONDocument) throws -> RecordID {
        let keys = try collection.indexes.map { try $0.keys(for: document) }
        for (index, indexKeys) in zip(collection.indexes, keys) {
            if let key = index.conflicts(indexKeys, excluding: nil) {
                throw UniqueIndexViolation(indexName: index.spec.name, key: key)
            }
        }
        let id = collection.nextID
        collection.nextID &+= 1
        store(id, document, keys: keys)
        undo.append(.inserted(id, document))
        return id
    }

    mutating func replace(_ id: RecordID, old: BSONDocument, with document: BSONDocument) throws {
        let keys = try collection.indexes.map { try $0.keys(for: document) }
        for (index, indexKeys) in zip(collection.indexes, keys) {
            if let key = index.conflicts(indexKeys, excluding: id) {
                throw UniqueIndexViolation(indexName: index.spec.name, key: key)
            }
        }
        guard let stored = collection.docs[id] else { return }
        unstore(id, stored)
        store(id, document, keys: keys)
        undo.append(.replaced(id, old: stored, new: document))
    }

    mutating func delete(_ id: RecordID, old: BSONDocument?) throws {
        guard let stored = collection.docs[id] else { return }
        unstore(id, stored)
        undo.append(.deleted(id, stored))
    }

    mutating func atomically<T>(_ body: (inout MemoryWriter) throws -> T) throws -> T {
        let mark = undo.count
        do {
            return try body(&self)
        } catch {
            rollback(to: mark)
            throw error
        }
    }

    /// Undoes every write since `mark`.
    mutating func rollback(to mark: Int = 0) {
        while undo.count > mark, let last = undo.popLast() {
            switch last {
            case .inserted(let id, let doc):
                unstore(id, doc)
            case .replaced(let id, let old, let new):
                unstore(id, new)
                store(id, old, keys: collection.indexes.map { (try? $0.keys(for: old)) ?? [] })
            case .deleted(let id, let doc):
                store(id, doc, keys: collection.indexes.map { (try? $0.keys(for: doc)) ?? [] })
            }
        }
    }

    private mutating func store(_ id: RecordID, _ doc: BSONDocument, keys: [[[UInt8]]]) {
        if collection.docs.updateValue(doc, forKey: id) == nil {
            collection.order.insert(id, at: collection.orderIndex(id))
        }
        for i in collection.indexes.indices { collection.indexes[i].add(keys[i], id: id) }
    }

    private mutating func unstore(_ id: RecordID, _ doc: BSONDocument) {
        for i in collection.indexes.indices {
            collection.indexes[i].remove((try? collection.indexes[i].keys(for: doc)) ?? [], id: id)
        }
        if collection.docs.removeValue(forKey: id) != nil {
            let i = collection.orderIndex(id)
            if i < collection.order.count && collection.order[i] == id { collection.order.remove(at: i) }
        }
    }
}
