import BSON
import Storage

/// `killCursors`: closes cursors before they are exhausted.
public enum KillCursorsCommand: CommandHandler {
    public static let names = ["killCursors"]
    public static let help = "Closes cursors."
    public static let parameters = ParameterSpec(required: ["cursors"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let namespace = try Namespace.cursorNamespace(request.database, request.collectionName())
        guard case .array(let values)? = request.body["cursors"] else {
            throw CommandError.wrongType("cursors", in: "killCursors", expected: "array", got: request.body["cursors"]?.type ?? .null)
        }
        var ids: [Int64] = []
        for v in values {
            guard case .int64(let id) = v else {
                throw CommandError(.typeMismatch, "BSON field 'killCursors.cursors' must be an array of longs")
            }
            ids.append(id)
        }
        let (killed, notFound) = await context.cursors.kill(ids: ids, namespace: namespace)
        return [
            "cursorsKilled": .array(killed.map { .int64($0) }),
            "cursorsNotFound": .array(notFound.map { .int64($0) }),
            "cursorsAlive": .array([]),
            "cursorsUnknown": .array([]),
        ]
    }
}
