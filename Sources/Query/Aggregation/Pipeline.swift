import BSON

/// An aggregation pipeline, parsed once.
///
/// Stages: `$match`, `$project`, `$addFields`/`$set`, `$unset`, `$sort`, `$skip`, `$limit`,
/// `$group`, `$count`, `$unwind`, `$replaceRoot`/`$replaceWith`. Expressions: see ``Expression``.
/// `$sort`, `$group` and `$count` are blocking; `$sort` and `$group` hold at most
/// ``defaultMemoryLimit`` bytes (error 292 beyond; `allowDiskUse` has no effect, nothing spills).
///
/// Run it with ``PipelineExecution`` (push documents, then finish) or ``run(_:)``.
public struct Pipeline: Sendable {
    /// In-memory bytes a blocking stage may hold (MongoDB's 100 MiB).
    public static let defaultMemoryLimit = 100 * 1024 * 1024

    let stages: [PipelineStage]

    /// Parses the stages. `variables` are the command's `let` constants (evaluated once, without
    /// a document); they are reachable as `$$name`.
    public init(stages: [BSONDocument], variables: BSONDocument = BSONDocument()) throws(QueryError) {
        var values: [String: BSONValue] = [:]
        for (name, value) in variables {
            values[name] = try Expression.parse(value, variables: values).evaluate(BSONDocument()) ?? .undefined
        }
        var parsed: [PipelineStage] = []
        for s in stages { parsed.append(try PipelineStage.parse(s, variables: values)) }
        self.stages = parsed
    }

    init(parsed: [PipelineStage]) {
        stages = parsed
    }

    /// The number of stages.
    public var count: Int { stages.count }

    /// True when there are no stages (the input passes through unchanged).
    public var isEmpty: Bool { stages.isEmpty }

    /// True when no stage has to see all input before producing output.
    public var isStreaming: Bool { !stages.contains { $0.isBlocking } }

    /// The filter of the leading `$match` stages (several merged with `$and`); nil when the
    /// pipeline does not start with `$match`.
    public var leadingMatch: Filter? {
        var docs: [BSONDocument] = []
        var filters: [Filter] = []
        for stage in stages {
            guard case .match(let f) = stage else { break }
            filters.append(f)
            docs.append(f.document)
        }
        if filters.count <= 1 { return filters.first }
        return try? Filter(["$and": .array(docs.map { .document($0) })])
    }

    /// What a storage query can do for the front of the pipeline: the leading `$match` filter,
    /// then an immediately following `$sort`, then any `$skip`/`$limit` run, plus the stages
    /// left to run over the query's results.
    public struct Pushdown: Sendable {
        /// The filter (``Filter/all`` when there is no leading `$match`).
        public var filter: Filter
        /// The order, if a `$sort` was pushed.
        public var sort: SortSpec?
        /// Documents to skip first.
        public var skip: Int
        /// At most this many documents (0 = no limit).
        public var limit: Int
        /// The stages still to run.
        public var remaining: Pipeline
    }

    /// Splits off the part of the pipeline a storage query can answer.
    public func pushdown() -> Pushdown {
        var i = 0
        while i < stages.count, case .match = stages[i] { i += 1 }
        let filter = leadingMatch ?? .all
        var sort: SortSpec?
        if i < stages.count, case .sort(let s) = stages[i] {
            sort = s
            i += 1
        }
        var skip = 0
        var limit = 0
        loop: while i < stages.count {
            switch stages[i] {
            case .skip(let k):
                if limit > 0 {
                    guard k < limit else { break loop }
                    limit -= k
                }
                let (s, o) = skip.addingReportingOverflow(k)
                guard !o else { break loop }
                skip = s
            case .limit(let k):
                limit = limit == 0 ? k : min(limit, k)
            default:
                break loop
            }
            i += 1
        }
        return Pushdown(filter: filter, sort: sort, skip: skip, limit: limit, remaining: Pipeline(parsed: Array(stages[i...])))
    }

    /// When the pipeline only counts its input (a single `$count`, or a `$group` with a constant
    /// `_id` whose accumulators are all `$sum` of constants, as pymongo's `count_documents`
    /// sends), its output for `n` input documents; nil otherwise. Lets callers count in storage
    /// instead of reading documents.
    public func countOutput(inputCount n: Int) -> [BSONDocument]? {
        guard stages.count == 1 else { return nil }
        switch stages[0] {
        case .count(let field):
            return n == 0 ? [] : [[field: Int32(exactly: n).map { .int32($0) } ?? .int64(Int64(n))]]
        case .group(let g):
            return g.countOutput(n)
        default:
            return nil
        }
    }

    /// True when ``countOutput(inputCount:)`` applies.
    public var isCountOnly: Bool { countOutput(inputCount: 1) != nil }

    /// Runs the pipeline over documents held in memory.
    public func run(_ documents: some Sequence<BSONDocument>, memoryLimit: Int = Pipeline.defaultMemoryLimit) throws(QueryError) -> [BSONDocument] {
        var execution = PipelineExecution(self, memoryLimit: memoryLimit)
        var out: [BSONDocument] = []
        for d in documents {
            out.append(contentsOf: try execution.push(d))
            if execution.isSatisfied { break }
        }
        out.append(contentsOf: try execution.finish())
        return out
    }
}
