import BSON
import Foundation
import Testing
@testable import Query

@Suite struct HotPathTests {
    /// GridFS-shaped documents and filters: a sanity check that matching stays cheap (prints the
    /// rate; asserts only correctness).
    @Test func gridfsChunkFilters() throws {
        let fileId = ObjectId()
        var chunks: [BSONDocument] = []
        for n in 0..<200 {
            var d = BSONDocument()
            d.append("_id", .objectId(ObjectId()))
            d.append("files_id", .objectId(fileId))
            d.append("n", .int32(Int32(n)))
            d.appendBinary("data", subtype: 0, payload: [UInt8](repeating: 7, count: 261_120))
            chunks.append(d)
        }
        let filter = try Filter(["files_id": .objectId(fileId), "n": .document(["$gte": 10, "$lt": 20])])
        let start = Date()
        var hits = 0
        for _ in 0..<50 {
            for c in chunks where filter.matches(c) { hits += 1 }
        }
        let elapsed = Date().timeIntervalSince(start)
        #expect(hits == 50 * 10)
        print("gridfs chunk filter: \(Int(Double(50 * chunks.count) / max(elapsed, 1e-9))) matches/s")
    }
}
