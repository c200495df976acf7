import BSON
@testable import Query

/// Documents from a JSON array (`%op` keys become `$op`, see ``JQ(_:)``).
func aggDocs(_ json: String) throws -> [BSONDocument] {
    let wrapper = try JQ("{\"v\": \(json)}")
    guard case .array(let a)? = wrapper["v"] else { return [] }
    return a.compactMap { $0.documentValue }
}

/// Runs a pipeline (JSON array of stages) over input documents (JSON array).
func aggRun(_ pipeline: String, _ input: String, memoryLimit: Int = Pipeline.defaultMemoryLimit) throws -> [BSONDocument] {
    try Pipeline(stages: aggDocs(pipeline)).run(aggDocs(input), memoryLimit: memoryLimit)
}

/// Canonical extended JSON of documents, for exact (type-preserving) comparison.
func aggCanonical(_ docs: [BSONDocument]) -> [String] {
    docs.map(\.canonicalExtendedJSON)
}

/// Evaluates one expression (JSON) against a document (JSON); "MISSING" when it yields nothing.
func aggEval(_ expr: String, _ doc: String = "{}") throws -> String {
    let e = try Expression.parse(JQ("{\"e\": \(expr)}")["e"] ?? .null)
    guard let v = try e.evaluate(JQ(doc)) else { return "MISSING" }
    var d = BSONDocument()
    d.append("v", v)
    return d.canonicalExtendedJSON
}

/// Canonical extended JSON of `{"v": <json>}`, to compare with ``aggEval(_:_:)``.
func aggValue(_ json: String) throws -> String {
    try J("{\"v\": \(json)}").canonicalExtendedJSON
}
