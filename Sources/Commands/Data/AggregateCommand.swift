import BSON
import Query
import Storage

/// `aggregate` on a collection: parses the pipeline once, pushes its leading `$match`, `$sort`,
/// `$skip` and `$limit` into a storage query, and runs the remaining stages over the query's
/// results as the client reads the cursor.
///
/// A remainder that only counts (pymongo's `count_documents`: `$group` on a constant `_id` with
/// `$sum` of constants, or `$count`) is answered with a storage count instead of reading
/// documents. `allowDiskUse` is accepted and has no effect: nothing spills to disk, and a
/// `$sort`/`$group` holding over 100 MiB fails with 292 either way. Database-level aggregation
/// (`aggregate: 1`), `explain`, and the stages `$lookup`, `$facet`, `$out`, `$merge` (and other
/// stages outside the engine's set) answer NotImplemented.
public enum AggregateCommand: CommandHandler {
    public static let names = ["aggregate"]
    public static let help = "Runs an aggregation pipeline on a collection."
    public static let parameters = ParameterSpec(
        required: ["pipeline"], optional: ["cursor", "hint", "let"],
        ignored: ["allowDiskUse", "readConcern", "bypassDocumentValidation", "maxTimeMS", "comment"],
        unimplemented: ["explain", "collation"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        if let argument = request.argument, argument.isNumber {
            throw CommandError(.notImplemented, "aggregate: database-level aggregation ({aggregate: 1}) is not implemented yet")
        }
        let namespace = try request.namespace()
        let stages = try request.documents("pipeline")
        guard let cursorOptions = try CursorOptions.parse(request) else {
            throw CommandError(.failedToParse, "The 'cursor' option is required, except for aggregate with the explain argument")
        }
        let batchSize = cursorOptions.batchSize ?? CursorBatch.defaultFirstBatchCount
        let pipeline = try Pipeline(stages: stages, variables: request.document("let") ?? BSONDocument())
        let hint = try IndexTarget.parseHint(request.body["hint"])

        let front = pipeline.pushdown()
        let query = FindQuery(namespace: namespace, filter: front.filter, sort: front.sort,
                              skip: front.skip, limit: front.limit, hint: hint)
        let cursor: any DocumentCursor
        if front.remaining.isCountOnly {
            let n = try await context.storage.count(query)
            cursor = ArrayCursor(front.remaining.countOutput(inputCount: n) ?? [])
        } else if front.remaining.isEmpty {
            cursor = try await context.storage.find(query)
        } else {
            cursor = PipelineCursor(source: try await context.storage.find(query), pipeline: front.remaining)
        }

        let (docs, exhausted): ([BSONDocument], Bool)
        do {
            (docs, exhausted) = try await CursorBatch.fetch(
                from: cursor, count: batchSize, bytes: CursorBatch.maxReplyBytes, projection: nil)
        } catch {
            await cursor.close()
            throw error
        }
        var id: Int64 = 0
        if exhausted {
            await cursor.close()
        } else {
            id = await context.cursors.register(
                cursor, namespace: namespace, connectionId: context.connection.id, session: request.body["lsid"],
                noTimeout: false, projection: nil)
        }
        return CursorBatch.reply(docs, id: id, namespace: namespace, first: true)
    }
}

/// A cursor that runs pipeline stages over another cursor's documents, reading the source only
/// as far as each batch needs (blocking stages read it all on the first batch).
actor PipelineCursor: DocumentCursor {
    private let source: any DocumentCursor
    private var execution: PipelineExecution
    private var pending: [BSONDocument] = []
    private var position = 0
    private var finished = false

    /// Wraps `source`; `pipeline` holds the stages left after pushdown.
    init(source: any DocumentCursor, pipeline: Pipeline) {
        self.source = source
        self.execution = PipelineExecution(pipeline)
    }

    func nextBatch(maxCount: Int, maxBytes: Int) async throws -> [BSONDocument] {
        do {
            try await fill(maxCount)
        } catch {
            await close()
            throw error
        }
        var out: [BSONDocument] = []
        var bytes = 0
        while position < pending.count && out.count < maxCount {
            let doc = pending[position]
            if !out.isEmpty && bytes + doc.bytes.count > maxBytes { break }
            bytes += doc.bytes.count
            out.append(doc)
            position += 1
        }
        if position > 1024 && position * 2 > pending.count {
            pending.removeFirst(position)
            position = 0
        }
        return out
    }

    /// Reads the source until `want` outputs wait or the pipeline has finished.
    private func fill(_ want: Int) async throws {
        while !finished && pending.count - position < want {
            if execution.isSatisfied {
                try await finishRun()
                break
            }
            let batch = try await source.nextBatch(maxCount: max(want, 101), maxBytes: CursorBatch.maxReplyBytes)
            if batch.isEmpty {
                try await finishRun()
                break
            }
            for doc in batch {
                pending.append(contentsOf: try execution.push(doc))
                if execution.isSatisfied { break }
            }
        }
        if !finished {
            let sourceDone = await source.isExhausted
            if sourceDone || execution.isSatisfied { try await finishRun() }
        }
    }

    private func finishRun() async throws {
        finished = true
        await source.close()
        pending.append(contentsOf: try execution.finish())
    }

    var isExhausted: Bool { finished && position >= pending.count }

    func close() async {
        finished = true
        pending = []
        position = 0
        await source.close()
    }
}
