import BSON
import Query
import Storage

/// `listCollections`: a cursor over the database's collections; `cursor.batchSize` limits the
/// first batch and the rest is read with `getMore` on `<db>.$cmd.listCollections`.
public enum ListCollectionsCommand: CommandHandler {
    public static let names = ["listCollections"]
    public static let help = "Lists the collections of a database."
    public static let parameters = ParameterSpec(optional: ["filter", "nameOnly", "authorizedCollections", "cursor"], ignored: ["comment"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let filter = try Filter(request.document("filter") ?? BSONDocument())
        let options = try CursorOptions.parse(request)
        let nameOnly = try request.bool("nameOnly", default: false)
        var docs: [BSONDocument] = []
        // `authorizedCollections: true` (with --auth): a user without the right to list the
        // database's collections gets the ones its roles grant something on — none, with built-in roles.
        let visible = try await AuthorizedDatabases.listsCollections(request, context: context)
        for info in try await context.storage.listCollections(in: request.database) where visible {
            let full: BSONDocument = [
                "name": .string(info.name),
                "type": "collection",
                "options": .document(info.options),
                "info": .document(["readOnly": .bool(false), "uuid": .binary(BSONBinary(subtype: 4, data: info.uuid))]),
                "idIndex": .document(["v": .int32(2), "key": .document(["_id": .int32(1)]), "name": "_id_"]),
            ]
            guard filter.matches(full) else { continue }
            docs.append(nameOnly ? ["name": .string(info.name), "type": "collection"] : full)
        }
        let ns = Namespace(unchecked: request.database, "$cmd.listCollections")
        return try await CursorBatch.firstBatch(
            of: docs, batchSize: options?.batchSize, namespace: ns, request: request, context: context)
    }
}
