import BSON
import Storage

/// `renameCollection` (admin): `{renameCollection: "db.a", to: "db.b", dropTarget}`.
public enum RenameCollectionCommand: CommandHandler {
    public static let names = ["renameCollection"]
    public static let help = "Renames a collection."
    public static let parameters = ParameterSpec(required: ["to"], optional: ["dropTarget"], ignored: ["writeConcern", "stayTemp", "comment"])
    public static let adminOnly = true

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        guard case .string(let from)? = request.argument, let source = Namespace.parse(from) else {
            throw CommandError(.invalidNamespace, "Invalid source namespace: \(request.argument.map { "\($0)" } ?? "missing")")
        }
        guard let to = try request.string("to"), let target = Namespace.parse(to) else {
            throw CommandError(.invalidNamespace, "Invalid target namespace")
        }
        try await context.storage.renameCollection(from: source, to: target, dropTarget: try request.bool("dropTarget", default: false))
        return BSONDocument()
    }
}
