import BSON
import Storage

/// One command. Each handler lives in its own file and is listed in ``CommandTable``.
///
/// A handler returns the reply's fields without `ok`; the dispatcher appends `ok: 1.0`, or turns
/// a thrown error into `{ok: 0, errmsg, code, codeName}`.
public protocol CommandHandler: Sendable {
    /// The names the command answers to; the first is canonical (`hello`, then aliases).
    static var names: [String] { get }
    /// One line for `listCommands`.
    static var help: String { get }
    /// How each field of the command is treated.
    static var parameters: ParameterSpec { get }
    /// True when the command must be sent to the `admin` database.
    static var adminOnly: Bool { get }
    /// True for test commands (`configureFailPoint`): they exist only with
    /// `--setParameter enableTestCommands=1`, else they are 59 CommandNotFound as in mongod.
    static var testOnly: Bool { get }
    /// Runs the command.
    static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument
    /// Runs the command and says what it changes in the connection's session. Only commands that
    /// change it (`hello`; later the SASL commands and `logout`) implement this; for the others it
    /// is ``run(_:context:)``'s reply with no change. The dispatcher always calls this one.
    static func outcome(_ request: CommandRequest, context: CommandContext) async throws -> CommandOutcome
}

extension CommandHandler {
    /// Most commands run on any database.
    public static var adminOnly: Bool { false }

    /// Most commands are not test commands.
    public static var testOnly: Bool { false }

    /// The reply of ``run(_:context:)``; the session is unchanged.
    public static func outcome(_ request: CommandRequest, context: CommandContext) async throws -> CommandOutcome {
        CommandOutcome(reply: try await run(request, context: context))
    }
}

/// What a command produced: its reply and the session changes the connection must apply after it.
public struct CommandOutcome: Sendable {
    /// The reply document (the dispatcher appends `ok`, or replaces it with an error reply).
    public var reply: BSONDocument
    /// Changes to the connection's session, applied in order once the command has finished.
    public var sessionChanges: [SessionChange]
    /// True when the connection must close without sending the reply (the `failCommand` fail
    /// point's `closeConnection`).
    public var closeConnection: Bool
    /// A cursor batch that belongs in `reply`'s (empty) batch array, written by the front end
    /// straight into its buffer (``DeferredCursorReply``); only when the request allowed it
    /// (``CommandRequest/allowsDeferredBatches``). ``fullReply()`` gives the reply with it.
    public var deferredBatch: DeferredBatch?

    /// Creates an outcome.
    public init(reply: BSONDocument, sessionChanges: [SessionChange] = [], closeConnection: Bool = false,
                deferredBatch: DeferredBatch? = nil) {
        self.reply = reply
        self.sessionChanges = sessionChanges
        self.closeConnection = closeConnection
        self.deferredBatch = deferredBatch
    }
}

/// How a command's fields are treated, after FerretDB's classification: required fields must be
/// present; optional ones are honoured; ignored ones are accepted and have no effect (documented in
/// docs/commands.md); unimplemented ones fail with `NotImplemented` instead of being silently
/// dropped. Fields every command may carry (``ParameterSpec/generic``) are always accepted.
public struct ParameterSpec: Sendable {
    /// Fields that must be present.
    public var required: Set<String>
    /// Fields that are honoured when present.
    public var optional: Set<String>
    /// Fields that are accepted and have no effect.
    public var ignored: Set<String>
    /// Fields that make the command fail with NotImplemented when present (and not false/null).
    public var unimplemented: Set<String>
    /// When true, a field in none of the sets is error 40415, as mongod's IDL parser does.
    public var strict: Bool

    /// Creates a specification.
    public init(
        required: Set<String> = [], optional: Set<String> = [], ignored: Set<String> = [],
        unimplemented: Set<String> = [], strict: Bool = false
    ) {
        self.required = required
        self.optional = optional
        self.ignored = ignored
        self.unimplemented = unimplemented
        self.strict = strict
    }

    /// Accepts anything (for handshake commands, whose clients add fields freely).
    public static let lenient = ParameterSpec()

    /// Fields any command may carry: routing, sessions, concerns, API versioning, tracing.
    public static let generic: Set<String> = [
        "$db", "lsid", "$readPreference", "$clusterTime", "txnNumber", "autocommit", "startTransaction",
        "writeConcern", "readConcern", "apiVersion", "apiStrict", "apiDeprecationErrors", "comment",
        "maxTimeMS", "$audit", "$client", "mayBypassWriteBlocking", "$configServerState", "$queryOptions",
        "$maxTimeMS",
    ]

    /// Checks a request against the specification, after the fields mongod parses for every
    /// command (`maxTimeMS`, `writeConcern`).
    public func check(_ request: CommandRequest) throws(CommandError) {
        _ = try ClientNumbers.maxTimeMS(request.body["maxTimeMS"])
        try ClientNumbers.checkWriteConcern(request.body["writeConcern"])
        for field in required where !request.body.contains(field) && request.sequences[field] == nil {
            throw CommandError.missingField(field, in: request.name)
        }
        for element in request.body.elements {
            let key = element.key
            if key == request.name || ParameterSpec.generic.contains(key) { continue }
            if unimplemented.contains(key) {
                let v = element.value
                if case .null = v { continue }
                if case .bool(false) = v { continue }
                throw CommandError(.notImplemented, "\(request.name): support for field '\(key)' is not implemented yet")
            }
            if strict && !required.contains(key) && !optional.contains(key) && !ignored.contains(key) {
                throw CommandError(code: 40415, codeName: "Location40415", message: "BSON field '\(request.name).\(key)' is an unknown field.")
            }
        }
    }
}
