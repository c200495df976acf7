import BSON
@testable import Query

/// Parses relaxed/canonical extended JSON for test tables.
func J(_ json: String) throws -> BSONDocument {
    try BSONDocument(extendedJSON: json)
}

/// The value of the single field `v` of `{"v": <json>}`.
func V(_ json: String) throws -> BSONValue {
    try J("{\"v\": \(json)}")["v"] ?? .null
}

/// The QueryError a closure throws, if any.
func queryError(_ body: () throws -> Void) -> QueryError? {
    do {
        try body()
        return nil
    } catch let e as QueryError {
        return e
    } catch {
        return QueryError(code: -1, codeName: "NotAQueryError", message: "\(error)")
    }
}

func sign(_ x: Int) -> Int { x < 0 ? -1 : (x > 0 ? 1 : 0) }

func memcmp(_ a: [UInt8], _ b: [UInt8]) -> Int {
    for (x, y) in zip(a, b) where x != y { return x < y ? -1 : 1 }
    return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
}
