import BSON
import Storage

/// The `data` of the `failCommand` fail point, read as mongod reads it when a command is
/// evaluated: which commands it targets (`failCommands`, or `failAllCommands`), filters
/// (`appName`, `namespace`, `threadName`) and what it does to a matching command
/// (`blockConnection` + `blockTimeMS`, `closeConnection`, `errorCode` with `errorLabels`,
/// `writeConcernError`). Fields of the wrong type count as absent, as mongod's extractors do.
public struct FailCommandData: Sendable, Equatable {
    /// Command names (any alias matches the command).
    public var failCommands: Set<String>
    /// Every command matches (mongod's `failAllCommands`).
    public var failAllCommands: Bool
    /// Only connections whose client metadata has this application name.
    public var appName: String?
    /// Only commands on this namespace (`db.collection`).
    public var namespace: String?
    /// Only the connection with this thread name (`conn<id>`).
    public var threadName: String?
    /// Close the connection without a reply.
    public var closeConnection: Bool
    /// Hold the command for `blockTimeMS` first.
    public var blockConnection: Bool
    /// How long to hold it: nil when absent or not an integer (the command then fails with 72).
    public var blockTimeMS: Int64?
    /// Fail with this code.
    public var errorCode: Int32?
    /// Labels for the error reply (`errorLabels`), when given as an array.
    public var errorLabels: [BSONValue]?
    /// A `writeConcernError` document to add to the (successful) reply.
    public var writeConcernError: BSONDocument?
    /// The document as configured (reported back by `getParameter`-style listings and logs).
    public var document: BSONDocument

    /// Reads `data` (an empty document when absent).
    public init(_ data: BSONDocument) {
        document = data
        var names = Set<String>()
        if case .array(let values)? = data["failCommands"] {
            for case .string(let name) in values { names.insert(name) }
        }
        failCommands = names
        failAllCommands = data["failAllCommands"] != nil
        appName = FailCommandData.string(data["appName"])
        namespace = FailCommandData.string(data["namespace"])
        threadName = FailCommandData.string(data["threadName"])
        closeConnection = FailCommandData.bool(data["closeConnection"])
        blockConnection = FailCommandData.bool(data["blockConnection"])
        blockTimeMS = data["blockTimeMS"].flatMap { $0.isNumber ? $0.intValue.map(Int64.init) : nil }
        errorCode = data["errorCode"].flatMap { v in v.isNumber ? v.intValue.flatMap { Int32(exactly: $0) } : nil }
        if case .array(let labels)? = data["errorLabels"] { errorLabels = labels } else { errorLabels = nil }
        if case .document(let wce)? = data["writeConcernError"] { writeConcernError = wce } else { writeConcernError = nil }
    }

    /// Whether a matching command is affected at all (mongod activates the fail point only when
    /// it closes, blocks or fails the command, or adds a write concern error).
    public var hasEffect: Bool {
        closeConnection || blockConnection || errorCode != nil || writeConcernError != nil
    }

    /// Whether a command matches the filters. `configureFailPoint` never matches.
    public func matches(_ command: FailPointTarget) -> Bool {
        if command.names.contains("configureFailPoint") { return false }
        if let threadName, threadName != "conn\(command.connectionId)" { return false }
        if let appName, appName != (command.appName ?? "") { return false }
        if let namespace, namespace != command.namespace { return false }
        if failAllCommands { return true }
        return command.names.contains { failCommands.contains($0) }
    }

    private static func string(_ value: BSONValue?) -> String? {
        if case .string(let s)? = value { return s }
        return nil
    }

    private static func bool(_ value: BSONValue?) -> Bool {
        switch value {
        case .bool(let b)?: return b
        case let v? where v.isNumber: return v.isTruthy
        default: return false
        }
    }
}

/// What the `failCommand` fail point sees of a command.
public struct FailPointTarget: Sendable {
    /// The command's names (canonical first, then aliases).
    public var names: [String]
    /// `db.collection` for commands on a collection, else the database name.
    public var namespace: String
    /// The connection's `client.application.name`.
    public var appName: String?
    /// The connection id.
    public var connectionId: Int64

    /// Creates a target.
    public init(names: [String], namespace: String, appName: String?, connectionId: Int64) {
        self.names = names
        self.namespace = namespace
        self.appName = appName
        self.connectionId = connectionId
    }
}

/// What the fail point does to one command that it fired on.
public struct FailCommandAction: Sendable {
    /// The fail point's data.
    public var data: FailCommandData

    /// Hold the command this long first (nil: no block).
    public var block: Duration? {
        guard data.blockConnection, let ms = data.blockTimeMS, ms >= 0 else { return nil }
        return .milliseconds(ms)
    }

    /// mongod's 72 InvalidOptions when `blockConnection` lacks a usable `blockTimeMS`.
    public var invalidBlock: CommandError? {
        guard data.blockConnection else { return nil }
        guard let ms = data.blockTimeMS else {
            return CommandError(.invalidOptions, "must specify 'blockTimeMS' when 'blockConnection' is true")
        }
        return ms < 0 ? CommandError(.invalidOptions, "'blockTimeMS' must be non-negative") : nil
    }

    /// The error to answer with (`errorCode`), worded as mongod words it.
    public var error: CommandError? {
        data.errorCode.map { CommandError(code: $0, codeName: FailCommandAction.codeName($0), message: FailCommandAction.message) }
    }

    /// The labels mongod (4.4+, as a replica-set member or mongos) adds when the fail point gives
    /// none: `RetryableWriteError` on a retryable write (a write command carrying `txnNumber`, which
    /// drivers send only where retryable writes exist: here, in load-balanced mode) failed with a
    /// code the retryable-writes spec lists. Nil otherwise (no `errorLabels` field).
    public static func defaultLabels(_ code: Int32, _ request: CommandRequest) -> [BSONValue]? {
        guard retryableWriteCommands.contains(request.name), request.body["txnNumber"] != nil,
              retryableWriteCodes.contains(code) else { return nil }
        return [.string("RetryableWriteError")]
    }

    /// Write commands drivers retry.
    static let retryableWriteCommands: Set<String> = ["insert", "update", "delete", "findAndModify", "findandmodify"]

    /// The retryable-writes spec's retryable error codes.
    static let retryableWriteCodes: Set<Int32> = [6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]

    /// The message of every failure the fail point causes.
    public static let message = "Failing command via 'failCommand' failpoint"

    /// MongoDB's code name for the codes drivers test with (the node-state and network codes the
    /// error table leaves out on purpose), then the table, else `Location<code>` as mongod does.
    public static func codeName(_ code: Int32) -> String {
        if let name = testCodeNames[code] { return name }
        if let known = ErrorCode(rawValue: code) { return known.name }
        return "Location\(code)"
    }

    private static let testCodeNames: [Int32: String] = [
        6: "HostUnreachable", 7: "HostNotFound", 11: "UserNotFound", 18: "AuthenticationFailed",
        24: "LockTimeout", 64: "WriteConcernFailed", 89: "NetworkTimeout", 91: "ShutdownInProgress",
        100: "UnsatisfiableWriteConcern", 112: "WriteConflict", 134: "ReadConcernMajorityNotAvailableYet",
        189: "PrimarySteppedDown", 251: "NoSuchTransaction", 262: "ExceededTimeLimit",
        9001: "SocketException", 10107: "NotWritablePrimary", 11600: "InterruptedAtShutdown",
        11602: "InterruptedDueToReplStateChange", 13388: "StaleConfig", 13435: "NotPrimaryNoSecondaryOk",
        13436: "NotPrimaryOrSecondary", 50985: "Location50985",
    ]
}
