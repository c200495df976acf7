import Executors
import BSON
import Foundation
import Storage
import Testing

@testable import Commands

/// What one command costs inside the daemon, without a socket: the dispatcher, the handler and
/// SQLite, on a `BlockingExecutor` thread as in the server. Not a test (no timing is asserted):
/// `GRIDLITE_MEASURE=1 swift test -c release --filter CommandCostMeasurements` prints the figures
/// quoted in docs/performance.md.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["GRIDLITE_MEASURE"] == "1"))
struct CommandCostMeasurements {
    func perCall(_ n: Int, _ body: (Int) async throws -> Void) async throws -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        for i in 0..<n { try await body(i) }
        let elapsed = clock.now - start
        return Double(elapsed.components.attoseconds) / 1e12 / Double(n) + Double(elapsed.components.seconds) * 1e6 / Double(n)
    }

    @Test(arguments: TestEngine.allCases)
    func smallCommands(engine: TestEngine) async throws {
        let label = " [\(engine.rawValue)]"
        let executor = BlockingExecutor()
        try await withTaskExecutorPreference(executor) {
            let context = try await makeTestContext(engine: engine)
            let db = "measure\(UInt32.random(in: 0...UInt32.max))"
            let docs: [BSONValue] = (0..<1000).map { .document(["_id": .int32(Int32($0)), "filename": .string("f\($0)"), "length": .int32(10)]) }
            _ = try await run(["insert": "f", "documents": .array(docs)], db: db, context: context)
            _ = try await run(["ping": 1], db: db, context: context)
            let ping = try await perCall(5000) { _ in _ = try await run(["ping": 1], db: db, context: context) }
            let find = try await perCall(5000) { i in
                _ = try await run(["find": "f", "filter": .document(["_id": .int32(Int32(i % 1000))]), "limit": 1, "singleBatch": true], db: db, context: context)
            }
            let findEmpty = try await perCall(5000) { _ in
                _ = try await run(["find": "f", "filter": .document([:]), "projection": .document(["_id": 1]), "limit": 1, "singleBatch": true], db: db, context: context)
            }
            let insert = try await perCall(5000) { i in
                _ = try await run(["insert": "g", "documents": [.document(["_id": .int32(Int32(i)), "x": .int32(1)])]], db: db, context: context)
            }
            var chunk = BSONDocument()
            chunk.appendBinary("data", subtype: 0, payload: [UInt8](repeating: 7, count: 10240))
            let insertChunk = try await perCall(3000) { i in
                var doc: BSONDocument = ["_id": .int32(Int32(i)), "files_id": .int32(Int32(i)), "n": .int32(0)]
                if let data = chunk["data"] { doc.append("data", data) }
                _ = try await run(["insert": "fs.chunks", "documents": [.document(doc)]], db: db, context: context)
            }
            // The GridFS download path: a files_id + n range of 255 KiB chunks, as drivers read it.
            var big = BSONDocument()
            big.appendBinary("data", subtype: 0, payload: [UInt8](repeating: 9, count: 255 * 1024))
            for f in 0..<20 {
                let chunks: [BSONValue] = (0..<8).map { n in
                    var doc: BSONDocument = ["_id": .int32(Int32(f * 100 + n)), "files_id": .int32(Int32(f)), "n": .int32(Int32(n))]
                    if let data = big["data"] { doc.append("data", data) }
                    return .document(doc)
                }
                _ = try await run(["insert": "big.chunks", "documents": .array(chunks)], db: db, context: context)
            }
            let findChunks = try await perCall(1000) { i in
                _ = try await run(["find": "big.chunks", "filter": .document(["files_id": .int32(Int32(i % 20)), "n": .document(["$gte": 2, "$lt": 6])]),
                                   "sort": .document(["n": 1]), "singleBatch": true], db: db, context: context)
            }
            print("MEASURE\(label) µs per call (dispatcher + handler + storage, no socket): ping \(ping), find_one by _id \(find), find {} limit 1 \(findEmpty), insert tiny \(insert), insert 10 KiB chunk \(insertChunk), find 4 x 255 KiB chunks by files_id+n range \(findChunks)")
        }
    }

    /// The observation point alone, per command: in-flight marking for currentOp, timing, the
    /// document counts read from the reply, swift-metrics (no backend bootstrapped: the no-op
    /// handlers) and the serverStatus counters.
    @Test func observationPoint() async throws {
        let context = try await makeTestContext()
        var mutable = context
        let activity = mutable.register()
        defer { context.environment.connections.close(activity) }
        let observer = CommandObserver()
        let request = try CommandRequest(body: ["find": "f", "filter": .document(["_id": 1]), "limit": 1, "singleBatch": true], database: "db")
        let reply: BSONDocument = ["cursor": .document(["firstBatch": .array([.document(["_id": 1])]), "id": .int64(0), "ns": "db.f"]), "ok": 1.0]
        let n = 200_000
        let perCall = try await perCall(n) { _ in
            let started = ContinuousClock.now
            activity.begin(request, at: started)
            observer.started(request.name, counters: context.environment.counters)
            let elapsed = ContinuousClock.now - started
            activity.end()
            let record = CommandRecord(
                name: request.name, database: request.database, duration: elapsed, code: 0, requestBytes: 100,
                replyBytes: reply.bytes.count + 21, documents: DocumentCounts(request: request, reply: reply, succeeded: true))
            observer.record(record, counters: context.environment.counters)
        }
        print("MEASURE observation point alone: \(perCall * 1000) ns per command")
    }
}
