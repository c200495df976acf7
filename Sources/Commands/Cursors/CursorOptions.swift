import BSON

/// The `cursor: {batchSize}` option of `aggregate`, `listCollections` and `listIndexes`,
/// checked as mongod's IDL checks it.
public struct CursorOptions: Sendable, Equatable {
    /// The first batch's document count, when the client set one.
    public var batchSize: Int?

    /// Creates options.
    public init(batchSize: Int? = nil) {
        self.batchSize = batchSize
    }

    /// Parses `request.body["cursor"]`: absent or an object holding only `batchSize`, a
    /// non-negative number. `aggregate` words a non-object as mongod's aggregate parser does.
    public static func parse(_ request: CommandRequest) throws(CommandError) -> CursorOptions? {
        guard let value = request.body["cursor"] else { return nil }
        guard case .document(let d) = value else {
            if request.name == "aggregate" {
                throw CommandError(.typeMismatch, "cursor field must be missing or an object")
            }
            throw CommandError.wrongType("cursor", in: request.name, expected: "object", got: value.type)
        }
        var options = CursorOptions()
        for e in d.elements {
            switch e.key {
            case "batchSize":
                options.batchSize = try ClientNumbers.nonNegative(
                    e.value, field: "batchSize", path: "cursor.batchSize").map { Int($0) }
            default:
                throw CommandError(code: 40415, codeName: "Location40415",
                                   message: "BSON field '\(request.name).cursor.\(e.key)' is an unknown field.")
            }
        }
        return options
    }
}
