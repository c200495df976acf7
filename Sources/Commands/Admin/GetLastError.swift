import BSON

/// `getLastError` / `getlasterror`: old drivers' write acknowledgement. Every gridlite write is
/// acknowledged by its own reply, so this reports no error.
public enum GetLastErrorCommand: CommandHandler {
    public static let names = ["getLastError", "getlasterror"]
    public static let help = "Reports the last write's error (always none: writes reply themselves)."
    public static let parameters = ParameterSpec(ignored: ["w", "wtimeout", "j", "fsync"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        ["n": .int32(0), "err": .null, "connectionId": .int64(context.connection.id)]
    }
}
