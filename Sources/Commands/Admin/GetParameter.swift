import BSON

/// `getParameter`: server parameters, all of them (`getParameter: "*"`) or those named as fields
/// (`{getParameter: 1, featureCompatibilityVersion: 1}`).
public enum GetParameterCommand: CommandHandler {
    public static let names = ["getParameter"]
    public static let help = "Reports server parameters."
    public static let parameters = ParameterSpec.lenient
    public static let adminOnly = true

    /// The parameters gridlite has, with their current values.
    static func all(_ context: CommandContext) -> [(String, BSONValue)] {
        [
            ("authenticationMechanisms", .array([])),
            ("cursorTimeoutMillis", .int64(600_000)),
            // --setParameter enableTestCommands=1 (configureFailPoint); pymongo's test harness reads it.
            ("enableTestCommands", .bool(context.environment.testCommandsEnabled)),
            ("featureCompatibilityVersion", .document(["version": "7.0"])),
            ("logLevel", .int32(context.logger.logLevel <= .debug ? 1 : 0)),
            ("maxBSONDepth", .int32(Int32(BSONDocument.maxDepth))),
            ("quiet", .bool(false)),
        ]
    }

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let params = all(context)
        var wantAll = false
        switch request.argument {
        case .string("*")?: wantAll = true
        case .document(let d)?: wantAll = d["allParameters"]?.isTruthy == true
        default: break
        }
        var reply = BSONDocument()
        if wantAll {
            for (k, v) in params { reply.append(k, v) }
            return reply
        }
        for e in request.body.elements where e.key != request.name && !ParameterSpec.generic.contains(e.key) {
            guard let found = params.first(where: { $0.0 == e.key }) else {
                throw CommandError(.invalidOptions, "no option found to get: \(e.key)")
            }
            reply.append(found.0, found.1)
        }
        if reply.isEmpty {
            throw CommandError(.invalidOptions, "no option found to get")
        }
        return reply
    }
}
