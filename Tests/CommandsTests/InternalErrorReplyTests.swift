import BSON
import Testing

@testable import Commands

/// An error no layer gave a MongoDB code (an engine's own error, which may quote SQL) is answered with
/// code 1 and a plain message; only the log sees its detail.
@Suite struct InternalErrorReplyTests {
    struct EngineFailure: Error, CustomStringConvertible {
        var description: String { "SQLiteError(1: no such table) in \"SELECT doc FROM c_12 WHERE k = ?\"" }
    }

    @Test func uncodedErrorsNeverReachTheClientVerbatim() {
        let reply = CommandDispatcher.errorReply(EngineFailure())
        #expect(reply["code"] == .int32(1))
        #expect(reply["codeName"] == .string("InternalError"))
        let message = reply["errmsg"]?.stringValue ?? ""
        #expect(!message.contains("SELECT"))
        #expect(!message.contains("SQLite"))
        #expect(CommandDispatcher.isInternal(EngineFailure()))
    }

    @Test func codedErrorsKeepTheirMessage() {
        let error = CommandError(.badValue, "limit must be positive")
        #expect(!CommandDispatcher.isInternal(error))
        #expect(CommandDispatcher.errorReply(error)["errmsg"] == .string("limit must be positive"))
    }
}
