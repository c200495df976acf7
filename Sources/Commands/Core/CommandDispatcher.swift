import BSON
import Storage
import Logging

/// Routes a command to its handler and shapes the reply. Knows no opcodes and no SQL.
///
/// It is also the one observation point every command passes: ``execute(_:context:wire:)`` marks
/// the command in flight for `currentOp`, times it, and records name, database, duration, result
/// code, bytes in/out and documents returned/written through ``CommandObserver`` (swift-metrics,
/// `opcounters`, `metrics.document`); commands slower than the environment's threshold are logged
/// as `Slow query`. Handlers count nothing themselves.
public struct CommandDispatcher: Sendable {
    private let handlers: [String: any CommandHandler.Type]
    private let observer: CommandObserver

    /// Creates a dispatcher over a table of handlers (``CommandTable/all`` by default), observed by
    /// `observer` (by default the standard one over the bootstrapped metrics backend).
    public init(table: [any CommandHandler.Type] = CommandTable.all, observer: CommandObserver? = nil) {
        var map: [String: any CommandHandler.Type] = [:]
        for h in table {
            for n in h.names { map[n] = h }
        }
        handlers = map
        self.observer = observer ?? .standard
    }

    /// The handler registered under `name`, if any.
    public func handler(named name: String) -> (any CommandHandler.Type)? { handlers[name] }

    /// Runs one command and returns its reply document (`ok: 1` or a MongoDB-style error).
    public func dispatch(_ request: CommandRequest, context: CommandContext) async -> BSONDocument {
        let outcome = await execute(request, context: context)
        do {
            return try outcome.fullReply()
        } catch {
            return CommandDispatcher.errorReply(error)
        }
    }

    /// Runs one command through the observation point and returns its reply with the session
    /// changes the connection must apply.
    public func execute(_ request: CommandRequest, context: CommandContext, wire: WireFacts = .inProcess) async -> CommandOutcome {
        let started = ContinuousClock.now
        context.activity?.begin(request, at: started)
        observer.started(request.name, counters: context.environment.counters)
        var outcome: CommandOutcome
        var code: Int32 = 0
        do {
            outcome = try await run(request, context: context, started: started)
        } catch let close as FailPointConnectionClose {
            code = close.error.code
            outcome = CommandOutcome(reply: CommandDispatcher.errorReply(close.error), closeConnection: true)
        } catch {
            code = CommandDispatcher.describe(error).0
            if CommandDispatcher.isInternal(error) {
                // The detail (an engine's message, possibly SQL text) goes to the log, never to the client.
                context.logger.error("internal error", metadata: [
                    "cmd": "\(request.name)", "db": "\(request.database)", "error": "\(String(reflecting: error))",
                ])
            }
            outcome = CommandOutcome(reply: CommandDispatcher.errorReply(error))
            RetryableWriteLabel.apply(to: &outcome.reply, request: request, code: code)
        }
        let elapsed = ContinuousClock.now - started
        context.activity?.end()
        var record = CommandRecord(
            name: request.name, database: request.database, duration: elapsed, code: code,
            requestBytes: wire.requestBytes,
            replyBytes: wire.replyFramingBytes.map { outcome.reply.bytes.count &+ $0 } ?? 0,
            documents: DocumentCounts(request: request, reply: outcome.reply, succeeded: code == 0))
        if code == 0 {
            record.gridFS = GridFSTraffic(request: request, reply: outcome.reply, inserted: record.documents.inserted)
            if let batch = outcome.deferredBatch {
                // The batch is not in `reply` yet (the connection writes it): count it here.
                record.documents.returned &+= batch.documents.count
                record.gridFS.downloadedBytes &+= batch.payloadBytes
                if wire.replyFramingBytes != nil { record.replyBytes &+= CommandDispatcher.arrayBytes(batch) }
            }
        }
        observer.record(record, counters: context.environment.counters)
        if elapsed >= context.environment.slowOperationThreshold {
            await SlowOperationLog.log(record, request: request, context: context)
        } else if context.logger.logLevel <= .debug {
            context.logger.debug("command", metadata: [
                "cmd": "\(request.name)", "db": "\(request.database)", "code": "\(code)",
                "ms": "\(elapsed.milliseconds)",
            ])
        }
        return outcome
    }

    private func run(_ request: CommandRequest, context: CommandContext, started: ContinuousClock.Instant) async throws -> CommandOutcome {
        guard let handler = handlers[request.name], !handler.testOnly || context.environment.testCommandsEnabled else {
            throw CommandError(.commandNotFound, "no such command: '\(request.name)'")
        }
        let auth = context.environment.auth
        if auth.enabled { try await Authorizer.check(request, context: context) }
        defer { if request.database == "admin" { auth.invalidateUsersAfterAdminWrite(request) } }
        if handler.adminOnly && request.database != "admin" {
            throw CommandError(.unauthorized, "\(request.name) may only be run against the admin database.")
        }
        try handler.parameters.check(request)
        // maxTimeMS (0: no limit) counts from the command's arrival; storage checks it while
        // scanning and writing (OperationDeadline).
        var deadline = try ClientNumbers.maxTimeMS(request.body["maxTimeMS"])
            .flatMap { $0 > 0 ? OperationDeadline(milliseconds: Int64($0), from: started) : nil }
        // A getMore without its own maxTimeMS runs on what its cursor's find left of its maxTimeMS.
        var budgetedCursor: Int64?
        if deadline == nil, request.name == "getMore", case .int64(let id)? = request.argument,
           let left = await context.cursors.timeLeft(id: id) {
            deadline = OperationDeadline(remaining: left, from: started)
            budgetedCursor = id
        }
        do {
            return try await run(handler, request, context: context, deadline: deadline)
        } catch {
            // Out of time: mongod kills the cursor (a fail point's block may have used the time
            // before the handler checked it out).
            if let id = budgetedCursor, deadline?.isExpired == true { await context.cursors.discard(id: id) }
            throw error
        }
    }

    /// Runs `handler` under `deadline` (fail point first, then the retryable-write table).
    private func run(
        _ handler: any CommandHandler.Type, _ request: CommandRequest, context: CommandContext, deadline: OperationDeadline?
    ) async throws -> CommandOutcome {
        try await OperationDeadline.$current.withValue(deadline) {
            let writeConcernError = try await applyFailPoint(handler, request, context: context, deadline: deadline)
            try deadline?.check()
            guard let write = RetryableWriteTable.key(of: request) else {
                return try await runHandler(handler, request, context: context, writeConcernError: writeConcernError)
            }
            // A retryable write: a resent txnNumber gets the first attempt's reply, never runs twice.
            let table = context.environment.retryableWrites
            switch await table.begin(write.session, txnNumber: write.txnNumber) {
            case .replay(let reply):
                return CommandOutcome(reply: reply)
            case .tooOld(let last):
                throw CommandError(
                    code: 225, codeName: "TransactionTooOld",
                    message: "Retryable write with txnNumber \(write.txnNumber) is prohibited on session because a newer retryable write with txnNumber \(last) has already started on this session.")
            case .run:
                do {
                    let outcome = try await runHandler(handler, request, context: context, writeConcernError: writeConcernError)
                    await table.finish(write.session, txnNumber: write.txnNumber, reply: outcome.reply)
                    return outcome
                } catch {
                    await table.finish(write.session, txnNumber: write.txnNumber, reply: CommandDispatcher.errorReply(error))
                    throw error
                }
            }
        }
    }

    /// Runs the handler and completes its reply (`writeConcernError` from a fail point, `ok: 1`).
    private func runHandler(
        _ handler: any CommandHandler.Type, _ request: CommandRequest, context: CommandContext, writeConcernError: BSONDocument?
    ) async throws -> CommandOutcome {
        var outcome = try await handler.outcome(request, context: context)
        if let writeConcernError { outcome.reply.append("writeConcernError", .document(writeConcernError)) }
        outcome.reply.append("ok", .double(1))
        return outcome
    }

    /// The `failCommand` fail point, evaluated as mongod does before a command runs: block
    /// (`blockTimeMS`, cut short by the command's deadline, which then fails it with 50), close
    /// the connection, or fail with `errorCode` and `errorLabels`. Returns a `writeConcernError`
    /// to add to the command's reply when the fail point asks for one.
    private func applyFailPoint(
        _ handler: any CommandHandler.Type, _ request: CommandRequest, context: CommandContext, deadline: OperationDeadline?
    ) async throws -> BSONDocument? {
        let failPoints = context.environment.failPoints
        guard failPoints.isActive else { return nil }
        var namespace = request.database
        if case .string(let collection)? = request.argument, !collection.isEmpty { namespace += "." + collection }
        let target = FailPointTarget(
            names: handler.names, namespace: namespace, appName: context.session.applicationName,
            connectionId: context.connection.id)
        guard let action = failPoints.evaluate(target) else { return nil }
        if let invalid = action.invalidBlock { throw invalid }
        if let block = action.block {
            context.logger.info("Blocking command via 'failCommand' failpoint", metadata: [
                "cmd": "\(request.name)", "blockTimeMS": "\(block.milliseconds)",
            ])
            let wait = deadline.map { min($0.remaining, block) } ?? block
            try? await Task.sleep(for: wait)
            try deadline?.check()
        }
        if action.data.closeConnection {
            context.logger.info("Failing command via 'failCommand' failpoint: closing connection", metadata: ["cmd": "\(request.name)"])
            throw FailPointConnectionClose(error: CommandError.location(50985, FailCommandAction.message))
        }
        if let error = action.error {
            throw FailPointFailure(
                error: error, errorLabels: action.data.errorLabels ?? FailCommandAction.defaultLabels(error.code, request))
        }
        return action.data.writeConcernError
    }

    /// Bytes a deferred batch adds to its reply: each document with its array element header.
    static func arrayBytes(_ batch: DeferredBatch) -> Int {
        var total = 0
        var digits = 1
        var nextPower = 10
        for (index, document) in batch.documents.enumerated() {
            if index == nextPower {
                digits += 1
                nextPower = nextPower &* 10
            }
            total &+= 2 &+ digits &+ document.byteCount
        }
        return total
    }

    /// Turns any error into `{ok: 0, errmsg, code, codeName}`.
    public static func errorReply(_ error: any Error) -> BSONDocument {
        let (code, codeName, message) = describe(error)
        var reply: BSONDocument = ["ok": .double(0), "errmsg": .string(message), "code": .int32(code), "codeName": .string(codeName)]
        if let failure = error as? FailPointFailure, let labels = failure.errorLabels {
            reply.append("errorLabels", .array(labels))
        }
        return reply
    }

    /// The code, code name and message of an error from any layer.
    public static func describe(_ error: any Error) -> (Int32, String, String) {
        switch error {
        case let e as CommandError: return (e.code, e.codeName, e.message)
        case let e as any MongoCodedError: return (e.mongoCode, e.mongoCodeName, e.mongoMessage)
        case let e as BSONError: return (ErrorCode.badValue.rawValue, ErrorCode.badValue.name, e.message)
        default:
            return (ErrorCode.internalError.rawValue, ErrorCode.internalError.name,
                    "internal error; the server log has the detail")
        }
    }

    /// True for an error no layer gave a MongoDB code: its detail is logged, not sent.
    public static func isInternal(_ error: any Error) -> Bool {
        switch error {
        case is CommandError, is any MongoCodedError, is BSONError: return false
        default: return true
        }
    }
}

/// An error from a lower layer (query engine, storage) that already carries a MongoDB code.
public protocol MongoCodedError: Error {
    /// The numeric code.
    var mongoCode: Int32 { get }
    /// The code name.
    var mongoCodeName: String { get }
    /// The message.
    var mongoMessage: String { get }
}

/// A command failed by the `failCommand` fail point's `errorCode`, with its `errorLabels`.
struct FailPointFailure: MongoCodedError {
    let error: CommandError
    let errorLabels: [BSONValue]?
    var mongoCode: Int32 { error.code }
    var mongoCodeName: String { error.codeName }
    var mongoMessage: String { error.message }
}

/// The `failCommand` fail point's `closeConnection`: the connection closes without a reply.
struct FailPointConnectionClose: Error {
    let error: CommandError
}
