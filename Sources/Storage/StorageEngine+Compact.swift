/// The default `compact` for engines that keep nothing to reclaim: it checks that the collection
/// exists (26 `NamespaceNotFound` "collection does not exist", as mongod) and frees nothing.
extension StorageEngine {
    public func compact(_ namespace: Namespace) async throws -> Int64 {
        let collections = try await listCollections(in: namespace.database)
        guard collections.contains(where: { $0.name == namespace.collection }) else {
            throw StorageError(.namespaceNotFound, "collection does not exist")
        }
        return 0
    }
}
