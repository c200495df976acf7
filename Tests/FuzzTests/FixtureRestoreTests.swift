import BSON
import Foundation
@testable import FuzzSupport
import Query
import Storage
import Testing

/// The command target puts the store back to its fixture after an input that wrote (emptying and
/// refilling the fixture's collections instead of dropping and re-creating every table): what the
/// next input sees must be exactly what a fresh set-up gives. In the regression suite, which is
/// serialized: the harnesses share one store.
extension RegressionCorpusTests {
    /// Every collection with its options, indexes and documents, in a stable order.
    static func storeSnapshot(_ storage: any StorageEngine) async throws -> [String] {
        var out: [String] = []
        for database in try await storage.listDatabases().sorted(by: { $0.name < $1.name }) {
            for info in try await storage.listCollections(in: database.name).sorted(by: { $0.name < $1.name }) {
                let namespace = Namespace(unchecked: database.name, info.name)
                let indexes = try await storage.listIndexes(namespace).map(\.name).sorted()
                let cursor = try await storage.find(FindQuery(namespace: namespace, filter: try Filter([:])))
                var docs: [String] = []
                while true {
                    let batch = try await cursor.nextBatch(maxCount: 1000, maxBytes: 16 << 20)
                    if batch.isEmpty { break }
                    docs += batch.map { $0.relaxedExtendedJSON }
                }
                await cursor.close()
                out.append("\(namespace) \(info.options.relaxedExtendedJSON) \(indexes) \(docs)")
            }
        }
        return out
    }

    @Test func writingInputsLeaveExactlyTheFixture() async throws {
        let seeds = RegressionCorpusTests.fuzzDirectory.appendingPathComponent("seeds").appendingPathComponent("commands")
        let names = try FileManager.default.contentsOfDirectory(atPath: seeds.path).filter { !$0.hasPrefix(".") }.sorted()
        #expect(names.count > 36)
        // A read-only input first: the store then holds the fresh fixture.
        await CommandFuzzHarness.runAsync([0, 0, 200, 30])
        let fresh = try await Self.storeSnapshot(FuzzEngine.shared.storage)
        #expect(fresh.contains { $0.hasPrefix("admin.system.users") })
        #expect(fresh.contains { $0.hasPrefix("fuzz.c ") })
        for name in names {
            await CommandFuzzHarness.runAsync([UInt8](try Data(contentsOf: seeds.appendingPathComponent(name))))
            let after = try await Self.storeSnapshot(FuzzEngine.shared.storage)
            #expect(after == fresh, "after \(name)")
        }
    }
}
