import BSON
import Storage
import Foundation
import Logging

/// Routes a command to its handler and shapes the reply. Knows no opcodes and no SQL.
public struct CommandDispatcher: Sendable {
    private let handlers: [String: any CommandHandler.Type]

    /// Creates a dispatcher over a table of handlers (``CommandTable/all`` by default).
    public init(table: [any CommandHandler.Type] = CommandTable.all) {
        var map: [String: any CommandHandler.Type] = [:]
        for h in table {
            for n in h.names { map[n] = h }
        }
        handlers = map
    }

    /// The handler registered under `name`, if any.
    public func handler(named name: String) -> (any CommandHandler.Type)? { handlers[name] }

    /// Runs one command and returns its reply document (`ok: 1` or a MongoDB-style error).
    public func dispatch(_ request: CommandRequest, context: CommandContext) async -> BSONDocument {
        let started = ContinuousClock.now
        let reply: BSONDocument
        do {
            reply = try await run(request, context: context)
        } catch {
            reply = CommandDispatcher.errorReply(error)
        }
        if context.logger.logLevel <= .debug {
            let elapsed = ContinuousClock.now - started
            let ok = reply["ok"].map { $0.isTruthy } ?? false
            context.logger.debug("command", metadata: [
                "conn": "\(context.connection.id)", "cmd": "\(request.name)", "db": "\(request.database)",
                "ok": "\(ok)", "ms": "\(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)",
            ])
        }
        return reply
    }

    private func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        guard let handler = handlers[request.name] else {
            throw CommandError(.commandNotFound, "no such command: '\(request.name)'")
        }
        if handler.adminOnly && request.database != "admin" {
            throw CommandError(.unauthorized, "\(request.name) may only be run against the admin database.")
        }
        try handler.parameters.check(request)
        context.environment.counters.countCommand(request.name)
        var reply = try await handler.run(request, context: context)
        reply.append("ok", .double(1))
        return reply
    }

    /// Turns any error into `{ok: 0, errmsg, code, codeName}`.
    public static func errorReply(_ error: any Error) -> BSONDocument {
        let (code, codeName, message) = describe(error)
        return ["ok": .double(0), "errmsg": .string(message), "code": .int32(code), "codeName": .string(codeName)]
    }

    /// The code, code name and message of an error from any layer.
    public static func describe(_ error: any Error) -> (Int32, String, String) {
        switch error {
        case let e as CommandError: return (e.code, e.codeName, e.message)
        case let e as any MongoCodedError: return (e.mongoCode, e.mongoCodeName, e.mongoMessage)
        case let e as BSONError: return (ErrorCode.badValue.rawValue, ErrorCode.badValue.name, e.message)
        default: return (ErrorCode.internalError.rawValue, ErrorCode.internalError.name, "\(error)")
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

extension ServerCounters {
    /// Counts a command in `opcounters` (the data commands count themselves per statement).
    func countCommand(_ name: String) {
        switch name {
        case "find": ServerCounters.bump(queries)
        case "getMore": ServerCounters.bump(getMores)
        case "insert", "update", "delete": break
        default: ServerCounters.bump(commands)
        }
    }
}
