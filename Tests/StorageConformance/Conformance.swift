import BSON
import Query
import Storage

/// A conformance check that did not hold.
public struct ConformanceFailure: Error, CustomStringConvertible {
    /// What was expected.
    public let message: String
    /// Where (line in the check's file).
    public let line: Int

    public var description: String { "line \(line): \(message)" }
}

/// One check of the storage conformance suite: a named async function over any engine.
public struct ConformanceCheck: Sendable, CustomStringConvertible {
    /// The check's name (the test's argument).
    public let name: String
    /// Runs the check against an engine; throws ``ConformanceFailure`` (or the engine's error).
    public let run: @Sendable (any StorageEngine) async throws -> Void

    public var description: String { name }
}

/// The checks every ``StorageEngine`` must pass, written once: a test target runs each against
/// each engine it has (see Tests/StorageConformanceTests). Every check works in its own database,
/// so one engine can serve all of them.
public enum StorageConformance {
    /// Every check.
    public static let checks: [ConformanceCheck] = basicChecks + indexChecks + gridFSChecks + errorChecks + deadlineChecks
}

/// Fails the check unless `condition` holds.
func expect(_ condition: Bool, _ message: @autoclosure () -> String, line: Int = #line) throws {
    guard condition else { throw ConformanceFailure(message: message(), line: line) }
}

/// Fails unless `body` throws a MongoDB error with `code`; returns it.
@discardableResult
func expectError(_ code: Int32, line: Int = #line, _ body: () async throws -> Void) async throws -> MongoError {
    do {
        try await body()
    } catch let e as MongoError {
        try expect(e.code == code, "expected error \(code), got \(e)", line: line)
        return e
    }
    throw ConformanceFailure(message: "expected error \(code), nothing thrown", line: line)
}

/// A fresh database name for one check.
func database(_ check: String) -> String { "conf_\(check)_\(UInt32.random(in: 0...UInt32.max))" }

/// A namespace without name checks.
func ns(_ database: String, _ collection: String) -> Namespace { Namespace(unchecked: database, collection) }

/// Runs a find and drains its cursor in batches of `batch` documents.
func findAll(_ engine: any StorageEngine, _ namespace: Namespace, _ filter: BSONDocument = [:], sort: BSONDocument? = nil,
             skip: Int = 0, limit: Int = 0, hint: IndexTarget? = nil, batch: Int = 1000,
             sortMemoryLimit: Int = blockingSortMemoryLimit) async throws -> [BSONDocument] {
    let query = FindQuery(namespace: namespace, filter: try Filter(filter), sort: try sort.map { try SortSpec($0) },
                          skip: skip, limit: limit, hint: hint, sortMemoryLimit: sortMemoryLimit)
    let cursor = try await engine.find(query)
    var out: [BSONDocument] = []
    while true {
        let docs = try await cursor.nextBatch(maxCount: batch, maxBytes: 16 << 20)
        if docs.isEmpty { break }
        out += docs
    }
    await cursor.close()
    return out
}

/// The `_id`s of documents, as values.
func ids(_ docs: [BSONDocument]) -> [BSONValue] { docs.map { $0["_id"] ?? .null } }

/// An update statement from documents.
func updateStatement(_ filter: BSONDocument, _ update: BSONDocument, multi: Bool = false, upsert: Bool = false) throws -> UpdateStatement {
    UpdateStatement(filter: try Filter(filter), update: try UpdateSpec(update), multi: multi, upsert: upsert)
}

/// An index spec as a client would send it.
func indexSpec(_ name: String, _ key: [(String, Int)], unique: Bool = false) -> IndexSpec {
    var doc: BSONDocument = ["v": .int32(2), "key": .document(BSONDocument(key.map { ($0.0, BSONValue.int32(Int32($0.1))) })), "name": .string(name)]
    if unique { doc.append("unique", .bool(true)) }
    return IndexSpec(name: name, key: key.map { (path: $0.0, direction: $0.1) }, unique: unique, spec: doc)
}
