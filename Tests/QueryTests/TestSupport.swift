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

/// Like ``J(_:)``, but keys written `%op` become `$op` after parsing (the extended JSON reader
/// would otherwise take `$type`/`$regex` keys for legacy type wrappers).
func JQ(_ json: String) throws -> BSONDocument {
    rekey(try J(json))
}

private func rekey(_ d: BSONDocument) -> BSONDocument {
    var out = BSONDocument()
    for (k, v) in d {
        let key = k.hasPrefix("%") ? "$" + k.dropFirst() : k
        out.append(key, rekey(v))
    }
    return out
}

private func rekey(_ v: BSONValue) -> BSONValue {
    switch v {
    case .document(let d): return .document(rekey(d))
    case .array(let a): return .array(a.map(rekey))
    default: return v
    }
}
