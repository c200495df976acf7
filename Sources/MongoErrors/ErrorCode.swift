/// MongoDB error codes gridlite returns, with their code names: one table for every layer
/// (query, storage and command errors all use it; it lives below them all).
///
/// Codes drivers treat as "node is unhealthy" (91, 189, 10107, 11600, 11602, 13435, 13436) are
/// deliberately absent: sending them makes drivers reset their connection pools.
public enum ErrorCode: Int32, Sendable, CaseIterable {
    case internalError = 1
    case badValue = 2
    case noSuchKey = 4
    case failedToParse = 9
    case typeMismatch = 14
    case pathNotViable = 28
    case emptyFieldName = 56
    case dollarPrefixedFieldName = 52
    case invalidPipelineOperator = 168
    case cannotIndexParallelArrays = 171
    case queryPlanKilled = 175
    case illegalOperation = 20
    case namespaceNotFound = 26
    case indexNotFound = 27
    case conflictingUpdateOperators = 40
    case cursorNotFound = 43
    case namespaceExists = 48
    case maxTimeMSExpired = 50
    case commandNotFound = 59
    case immutableField = 66
    case cannotCreateIndex = 67
    case invalidNamespace = 73
    case indexOptionsConflict = 85
    case indexKeySpecsConflict = 86
    case invalidOptions = 72
    case notImplemented = 238
    case unauthorized = 13
    case bsonObjectTooLarge = 10334
    case duplicateKey = 11000
    case location40414 = 40414
    case queryExceededMemoryLimit = 292
    case dataCorruptionDetected = 301

    /// The code name MongoDB reports in `codeName`.
    public var name: String {
        switch self {
        case .internalError: return "InternalError"
        case .badValue: return "BadValue"
        case .noSuchKey: return "NoSuchKey"
        case .failedToParse: return "FailedToParse"
        case .typeMismatch: return "TypeMismatch"
        case .pathNotViable: return "PathNotViable"
        case .emptyFieldName: return "EmptyFieldName"
        case .dollarPrefixedFieldName: return "DollarPrefixedFieldName"
        case .invalidPipelineOperator: return "InvalidPipelineOperator"
        case .cannotIndexParallelArrays: return "CannotIndexParallelArrays"
        case .queryPlanKilled: return "QueryPlanKilled"
        case .illegalOperation: return "IllegalOperation"
        case .namespaceNotFound: return "NamespaceNotFound"
        case .indexNotFound: return "IndexNotFound"
        case .conflictingUpdateOperators: return "ConflictingUpdateOperators"
        case .cursorNotFound: return "CursorNotFound"
        case .namespaceExists: return "NamespaceExists"
        case .maxTimeMSExpired: return "MaxTimeMSExpired"
        case .commandNotFound: return "CommandNotFound"
        case .immutableField: return "ImmutableField"
        case .cannotCreateIndex: return "CannotCreateIndex"
        case .invalidNamespace: return "InvalidNamespace"
        case .indexOptionsConflict: return "IndexOptionsConflict"
        case .indexKeySpecsConflict: return "IndexKeySpecsConflict"
        case .invalidOptions: return "InvalidOptions"
        case .notImplemented: return "NotImplemented"
        case .unauthorized: return "Unauthorized"
        case .bsonObjectTooLarge: return "BSONObjectTooLarge"
        case .duplicateKey: return "DuplicateKey"
        case .location40414: return "Location40414"
        case .queryExceededMemoryLimit: return "QueryExceededMemoryLimitNoDiskUseAllowed"
        case .dataCorruptionDetected: return "DataCorruptionDetected"
        }
    }
}
