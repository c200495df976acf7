import BSON

extension HelloCommand {
    /// The authentication parts of a `hello`: `saslSupportedMechs: "<db>.<user>"` answered from the
    /// user's stored mechanisms (absent for an unknown user), and `speculativeAuthenticate` (a
    /// `saslStart` document with `db`) answered with the `saslStart` reply when it can start — if
    /// it cannot (unknown user, another mechanism) the field is left out and the driver falls back
    /// to `saslStart`, as with mongod.
    static func authenticationFields(_ request: CommandRequest, context: CommandContext) async throws
        -> (fields: [(String, BSONValue)], change: SessionChange?)
    {
        var fields: [(String, BSONValue)] = []
        var change: SessionChange?
        if case .string(let qualified)? = request.body["saslSupportedMechs"], let dot = qualified.firstIndex(of: ".") {
            let db = String(qualified[..<dot])
            let name = String(qualified[qualified.index(after: dot)...])
            if let user = try await context.environment.auth.users.user(name, db: db, storage: context.storage) {
                fields.append(("saslSupportedMechs", .array(user.mechanisms.map { .string($0.rawValue) })))
            }
        }
        if case .document(let spec)? = request.body["speculativeAuthenticate"],
           spec["saslStart"]?.isTruthy == true, case .string(let mechanism)? = spec["mechanism"],
           case .string(let db)? = spec["db"], let payload = try? SASLExchange.payload(spec["payload"]) {
            let skip: Bool
            if case .document(let options)? = spec["options"] { skip = options["skipEmptyExchange"]?.isTruthy ?? false } else { skip = false }
            if let step = try? await SASLExchange.start(
                mechanism: mechanism, payload: payload, db: db, skipEmptyExchange: skip, context: context, speculative: true) {
                fields.append(("speculativeAuthenticate", .document(step.reply)))
                change = step.change
            }
        }
        return (fields, change)
    }
}
