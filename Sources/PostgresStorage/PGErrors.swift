import NIOCore
import PostgresNIO
import Storage

/// Turns PostgreSQL and connection failures into MongoDB errors.
///
/// Anything that means "the database cannot be reached right now" (connection refused or lost,
/// the server shutting down or starting, the pool giving up) becomes 6 HostUnreachable, which
/// drivers retry (the server adds `RetryableWriteError` to retryable writes). A serialization
/// failure or deadlock between daemons becomes 112 WriteConflict. The rest is an internal error
/// whose detail goes to the log only.
enum PGErrors {
    /// 6 HostUnreachable.
    static func unreachable(_ detail: String) -> MongoError {
        MongoError(code: 6, codeName: "HostUnreachable", message: "PostgreSQL is unreachable: \(detail)")
    }

    /// 112 WriteConflict.
    static func writeConflict() -> MongoError {
        MongoError(code: 112, codeName: "WriteConflict",
                   message: "WriteConflict error: this operation conflicted with another operation. Please retry your operation or multi-document transaction.")
    }

    /// The SQLSTATE of a server error.
    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// True for an error the server reported (the connection itself is fine).
    static func isServerError(_ error: any Error) -> Bool {
        guard let e = error as? PSQLError else { return false }
        return e.code == .server && !isConnectionState(e.serverInfo?[.sqlState])
    }

    /// SQLSTATEs that mean the server is going away or not accepting connections.
    private static func isConnectionState(_ state: String?) -> Bool {
        guard let state else { return false }
        return state.hasPrefix("08") || state == "57P01" || state == "57P02" || state == "57P03" || state == "53300"
    }

    /// True when `error` means PostgreSQL cannot be reached (as opposed to a statement failing).
    static func isUnreachable(_ error: any Error) -> Bool {
        if let e = error as? PSQLError {
            switch e.code {
            case .server: return isConnectionState(e.serverInfo?[.sqlState])
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed,
                 .sslUnsupported, .messageDecodingFailure:
                return true
            default: return false
            }
        }
        if error is ChannelError || error is IOError { return true }
        if let e = error as? MongoError { return e.code == 6 }
        return false
    }

    /// The MongoDB error for any failure of a storage call (MongoDB errors pass through).
    static func map(_ error: any Error) -> any Error {
        if error is MongoError || error is UniqueIndexViolation { return error }
        if isUnreachable(error) { return unreachable(shortDescription(error)) }
        switch sqlState(error) {
        case "40001", "40P01": return writeConflict()
        case "42P01": return MongoError(.queryPlanKilled, "collection dropped during the operation")
        case "54000": return MongoError(.bsonObjectTooLarge, "document too large for PostgreSQL")
        default: return error
        }
    }

    /// One line about an error, without SQL text or credentials.
    static func shortDescription(_ error: any Error) -> String {
        if let e = error as? PSQLError {
            if let message = e.serverInfo?[.message] { return message }
            if let underlying = e.underlying { return "\(e.code): \(underlying)" }
            return "\(e.code)"
        }
        return "\(error)"
    }
}
