import BSON

/// One run of a ``Pipeline``: push input documents in order, collect what each push releases,
/// then call ``finish()`` for the rest. Streaming stages pass documents on at once; blocking
/// stages (`$sort`, `$group`, `$count`) hold them until ``finish()``.
public struct PipelineExecution: Sendable {
    enum State: Sendable {
        case none
        case skip(remaining: Int)
        case limit(remaining: Int)
        case sort(buffer: [(key: [BSONValue], seq: Int, doc: BSONDocument)], bytes: Int)
        case group(GroupState)
        case count(Int)
    }

    private let stages: [PipelineStage]
    private var states: [State]
    private let memoryLimit: Int
    private var finished = false

    /// Starts a run; `memoryLimit` caps the bytes each `$sort`/`$group` holds.
    public init(_ pipeline: Pipeline, memoryLimit: Int = Pipeline.defaultMemoryLimit) {
        stages = pipeline.stages
        self.memoryLimit = memoryLimit
        states = pipeline.stages.map { stage in
            switch stage {
            case .skip(let n): return .skip(remaining: n)
            case .limit(let n): return .limit(remaining: n)
            case .sort: return .sort(buffer: [], bytes: 0)
            case .group(let g): return .group(GroupState(g))
            case .count: return .count(0)
            default: return .none
            }
        }
    }

    /// True once more input cannot change the output (a `$limit` is used up and no blocking
    /// stage precedes it), so the caller can stop reading.
    public var isSatisfied: Bool {
        for (i, stage) in stages.enumerated() {
            if stage.isBlocking { return false }
            if case .limit(let remaining) = states[i], remaining == 0 { return true }
        }
        return false
    }

    /// Feeds one input document; returns the output documents it releases.
    public mutating func push(_ doc: BSONDocument) throws(QueryError) -> [BSONDocument] {
        var out: [BSONDocument] = []
        try feed(doc, at: 0, into: &out)
        return out
    }

    /// Ends the input; returns the documents the blocking stages were holding (and whatever the
    /// stages after them make of those). Later calls return nothing.
    public mutating func finish() throws(QueryError) -> [BSONDocument] {
        guard !finished else { return [] }
        finished = true
        var out: [BSONDocument] = []
        for i in stages.indices {
            let released: [BSONDocument]
            switch states[i] {
            case .sort(let buffer, _):
                states[i] = .sort(buffer: [], bytes: 0)
                guard case .sort(let spec) = stages[i] else { continue }
                released = buffer.sorted { a, b in
                    let c = spec.compareKeys(a.key, b.key)
                    return c != 0 ? c < 0 : a.seq < b.seq
                }.map(\.doc)
            case .group(let g):
                released = g.results()
                states[i] = .none
            case .count(let n):
                guard case .count(let field) = stages[i], n > 0 else { continue }
                released = [[field: Int32(exactly: n).map { .int32($0) } ?? .int64(Int64(n))]]
            default:
                continue
            }
            for d in released { try feed(d, at: i + 1, into: &out) }
        }
        return out
    }

    private mutating func feed(_ doc: BSONDocument, at start: Int, into out: inout [BSONDocument]) throws(QueryError) {
        var doc = doc
        var i = start
        while i < stages.count {
            switch stages[i] {
            case .match(let filter):
                guard filter.matches(doc) else {
                    try filter.checkMatching()
                    return
                }
            case .reshape(let projection):
                doc = try projection.apply(doc)
            case .replaceRoot(let expr, let stage):
                let v = try expr.evaluate(doc)
                guard case .document(let d)? = v else {
                    let type = v?.type.alias ?? "missing"
                    throw QueryError.location(40228, "'\(stage == "$replaceRoot" ? "newRoot" : "replacement document")' must evaluate to an object, but resulting value was: \(v.map { "\($0)" } ?? "MISSING"). Type of resulting value: '\(type)'. Input document: \(doc)")
                }
                doc = d
            case .skip:
                guard case .skip(let remaining) = states[i] else { return }
                if remaining > 0 {
                    states[i] = .skip(remaining: remaining - 1)
                    return
                }
            case .limit:
                guard case .limit(let remaining) = states[i], remaining > 0 else { return }
                states[i] = .limit(remaining: remaining - 1)
            case .unwind(let spec):
                for d in try spec.apply(doc) { try feed(d, at: i + 1, into: &out) }
                return
            case .sort(let spec):
                guard case .sort(var buffer, var bytes) = states[i] else { return }
                states[i] = .none  // keep the buffer uniquely referenced while appending
                bytes += doc.bytes.count + 64
                if bytes > memoryLimit {
                    throw QueryError(code: 292, codeName: "QueryExceededMemoryLimitNoDiskUseAllowed",
                                     message: "Sort exceeded memory limit of \(memoryLimit) bytes, but did not opt in to external sorting. (gridlite never spills to disk; allowDiskUse has no effect.)")
                }
                buffer.append((spec.sortKey(for: doc), buffer.count, doc))
                states[i] = .sort(buffer: buffer, bytes: bytes)
                return
            case .group:
                guard case .group(var g) = states[i] else { return }
                states[i] = .none
                try g.add(doc)
                if g.bytes > memoryLimit {
                    throw QueryError(code: 292, codeName: "QueryExceededMemoryLimitNoDiskUseAllowed",
                                     message: "Exceeded memory limit for $group, but didn't allow external sort. (gridlite never spills to disk; allowDiskUse has no effect.)")
                }
                states[i] = .group(g)
                return
            case .count:
                if case .count(let n) = states[i] { states[i] = .count(n + 1) }
                return
            }
            i += 1
        }
        out.append(doc)
    }
}
