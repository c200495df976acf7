import Auth
import BSON
import Query
import Storage
import Synchronization

/// The users of `admin.system.users`, read through the storage engine and cached in memory, so a
/// login or an authorization check costs a dictionary lookup (and a new connection never pays
/// PBKDF2: only `createUser`/`updateUser` derive keys). Every change through this store empties
/// the cache; so does any command that writes `admin.system.users` directly (see ``Authorizer``).
/// The cache also expires after ``maxAge``, so that daemons sharing one PostgreSQL database see
/// each other's user changes (a dropped user or a revoked role) within that time.
public final class UserStore: Sendable {
    /// Where users live, as on mongod.
    public static let namespace = Namespace(unchecked: "admin", "system.users")

    private struct Cached {
        var users: [String: StoredUser]
        var loaded: ContinuousClock.Instant
    }

    private let cache = Mutex<Cached?>(nil)
    /// How long the cached users are trusted before they are read again.
    public let maxAge: Duration

    /// Creates an empty store (users are read on first use) whose cache is trusted for `maxAge`.
    public init(maxAge: Duration) {
        self.maxAge = maxAge
    }

    /// Creates an empty store with a 2-second cache.
    public convenience init() {
        self.init(maxAge: .seconds(2))
    }

    /// Every user, by `_id`.
    public func all(_ storage: any StorageEngine) async throws -> [String: StoredUser] {
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0 }), now - cached.loaded < maxAge { return cached.users }
        let cursor = try await storage.find(FindQuery(namespace: UserStore.namespace, filter: try Filter(BSONDocument())))
        var users: [String: StoredUser] = [:]
        while true {
            let batch = try await cursor.nextBatch(maxCount: 1000, maxBytes: 16 << 20)
            if batch.isEmpty { break }
            for doc in batch {
                if let user = StoredUser(document: doc) { users[user.id] = user }
            }
        }
        await cursor.close()
        cache.withLock { $0 = Cached(users: users, loaded: now) }
        return users
    }

    /// One user, or nil.
    public func user(_ user: String, db: String, storage: any StorageEngine) async throws -> StoredUser? {
        try await all(storage)[StoredUser.id(user: user, db: db)]
    }

    /// True once any user exists (the localhost exception ends then).
    public func hasUsers(_ storage: any StorageEngine) async throws -> Bool {
        try await !all(storage).isEmpty
    }

    /// Stores a new user; false when one with the same `_id` exists.
    public func insert(_ user: StoredUser, storage: any StorageEngine) async throws -> Bool {
        defer { invalidate() }
        let result = try await storage.insert([user.document], into: UserStore.namespace, ordered: true)
        if let error = result.writeErrors.first {
            if error.error.code == 11000 { return false }
            throw error.error
        }
        return true
    }

    /// Replaces a stored user; false when it no longer exists.
    public func replace(_ user: StoredUser, storage: any StorageEngine) async throws -> Bool {
        defer { invalidate() }
        let statement = UpdateStatement(
            filter: try Filter(["_id": .string(user.id)]), update: try UpdateSpec(user.document), multi: false, upsert: false)
        let result = try await storage.update([statement], in: UserStore.namespace, ordered: true)
        if let error = result.writeErrors.first { throw error.error }
        return result.matched > 0
    }

    /// Removes the users matching `filter`; returns how many.
    public func remove(matching filter: BSONDocument, storage: any StorageEngine) async throws -> Int {
        defer { invalidate() }
        let result = try await storage.delete(
            [DeleteStatement(filter: try Filter(filter), limit: 0)], in: UserStore.namespace, ordered: true)
        if let error = result.writeErrors.first { throw error.error }
        return result.deleted
    }

    /// Forgets the cache (the next lookup reads `admin.system.users` again).
    public func invalidate() {
        cache.withLock { $0 = nil }
    }
}
