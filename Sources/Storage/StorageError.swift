/// The MongoDB error codes the storage layer raises.
public enum StorageErrorCode: Int32, Sendable {
    case internalError = 1
    case badValue = 2
    case namespaceNotFound = 26
    case indexNotFound = 27
    case namespaceExists = 48
    case invalidNamespace = 73
    case indexOptionsConflict = 85
    case indexKeySpecsConflict = 86
    case cannotCreateIndex = 67
    case immutableField = 66
    case illegalOperation = 20
    case queryExceededMemoryLimit = 292
    case duplicateKey = 11000
    case bsonObjectTooLarge = 10334
    case maxTimeMSExpired = 50

    /// MongoDB's code name for this code.
    public var name: String {
        switch self {
        case .internalError: return "InternalError"
        case .badValue: return "BadValue"
        case .namespaceNotFound: return "NamespaceNotFound"
        case .indexNotFound: return "IndexNotFound"
        case .namespaceExists: return "NamespaceExists"
        case .invalidNamespace: return "InvalidNamespace"
        case .indexOptionsConflict: return "IndexOptionsConflict"
        case .indexKeySpecsConflict: return "IndexKeySpecsConflict"
        case .cannotCreateIndex: return "CannotCreateIndex"
        case .immutableField: return "ImmutableField"
        case .illegalOperation: return "IllegalOperation"
        case .queryExceededMemoryLimit: return "QueryExceededMemoryLimitNoDiskUseAllowed"
        case .duplicateKey: return "DuplicateKey"
        case .bsonObjectTooLarge: return "BSONObjectTooLarge"
        case .maxTimeMSExpired: return "MaxTimeMSExpired"
        }
    }
}

/// An error from a storage backend, already in MongoDB's terms.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    /// The numeric code.
    public let code: Int32
    /// The code name (`NamespaceExists`…).
    public let codeName: String
    /// The message for `errmsg`.
    public let message: String

    /// Creates an error from a known code.
    public init(_ code: StorageErrorCode, _ message: String) {
        self.code = code.rawValue
        self.codeName = code.name
        self.message = message
    }

    /// Creates an error from any code (for errors passed through from lower layers).
    public init(code: Int32, codeName: String, message: String) {
        self.code = code
        self.codeName = codeName
        self.message = message
    }

    public var description: String { "\(codeName)(\(code)): \(message)" }
}
