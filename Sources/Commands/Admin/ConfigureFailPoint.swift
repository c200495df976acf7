import BSON

/// `configureFailPoint`: sets a fail point's mode and data (`failCommand` only), answering
/// `{count}` — how often it had fired before. A test command: without
/// `--setParameter enableTestCommands=1` it does not exist (59 CommandNotFound, as in mongod).
///
/// Validated as mongod does it: the name first (266 FailPointSetFailed), then the mode (see
/// ``FailPointMode``) and `data` (an object, else 14). Problems inside `data` surface when a
/// command hits the fail point (e.g. `blockConnection` without `blockTimeMS`: that command fails
/// with 72 InvalidOptions).
public enum ConfigureFailPointCommand: CommandHandler {
    public static let names = ["configureFailPoint"]
    public static let help = "Enables, disables or configures a fail point (test command)."
    public static let parameters = ParameterSpec(optional: ["mode", "data"])
    public static let adminOnly = true
    public static let testOnly = true

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let name: String
        if case .string(let s)? = request.argument { name = s } else { name = "" }
        guard FailPointRegistry.names.contains(name) else {
            throw CommandError(code: 266, codeName: "FailPointSetFailed", message: "\(name) not found")
        }
        let mode = try FailPointMode(command: request.body)
        var data = BSONDocument()
        if let value = request.body["data"] {
            guard case .document(let d) = value else {
                throw CommandError(.typeMismatch, "the 'data' option must be a JSON object")
            }
            data = d
        }
        let count = try context.environment.failPoints.configure(name, mode: mode, data: data)
        context.logger.warning("Set failpoint", metadata: [
            "failPointName": "\(name)", "mode": "\(mode)",
            "data": "\(data.relaxedExtendedJSON)",
        ])
        return ["count": .int64(count)]
    }
}
