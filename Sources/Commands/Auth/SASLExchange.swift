import Auth
import BSON
import Foundation

/// The SCRAM conversations of `saslStart`, `saslContinue` and `hello`'s `speculativeAuthenticate`:
/// looks the user up, drives the ``ScramServer`` value kept in the session, and returns the reply
/// with the session change (never mutating the session itself). Every failure is the same 18
/// AuthenticationFailed, logged with the peer address and delayed by ``AuthFailureThrottle``.
enum SASLExchange {
    /// gridlite runs one conversation per connection at a time; its id is always 1 (as mongod's).
    static let conversationId: Int32 = 1

    /// The mechanisms offered.
    static let mechanisms: [String] = ScramMechanism.allCases.map(\.rawValue)

    /// What a step produced: reply fields (`conversationId`, `done`, `payload`) and the new state.
    struct Step {
        var reply: BSONDocument
        var change: SessionChange
    }

    /// Starts a conversation from a client-first message (`saslStart`, or `speculativeAuthenticate`).
    static func start(
        mechanism name: String, payload: [UInt8], db: String, skipEmptyExchange: Bool, context: CommandContext,
        speculative: Bool = false
    ) async throws -> Step {
        guard let mechanism = ScramMechanism(rawValue: name) else { throw AuthErrors.mechanismUnavailable(name) }
        let clientFirst: ScramClientFirst
        do {
            clientFirst = try ScramClientFirst(payload)
        } catch {
            if speculative { throw AuthErrors.authenticationFailed }
            throw await failure(user: nil, db: db, mechanism: name, reason: "\(error)", context: context)
        }
        guard let user = try await context.environment.auth.users.user(clientFirst.user, db: db, storage: context.storage) else {
            // A speculative attempt is retried with saslStart at once: count and log that one only.
            if speculative { throw AuthErrors.authenticationFailed }
            throw await failure(user: clientFirst.user, db: db, mechanism: name, reason: "unknown user", context: context)
        }
        guard let credential = user.credentials[mechanism] else {
            throw CommandError(code: 334, codeName: "MechanismUnavailable",
                               message: "Unable to use \(name) based authentication for user without any \(name) credentials registered")
        }
        let scram = ScramServer.start(mechanism, credential: credential, clientFirst: clientFirst, serverNonce: try ScramServer.makeNonce())
        let conversation = SASLConversation(
            id: conversationId, mechanism: name, user: UserName(user: clientFirst.user, db: db), scram: scram,
            skipEmptyExchange: skipEmptyExchange, previousUsers: context.session.authentication.users)
        return Step(
            reply: ["conversationId": .int32(conversationId), "done": .bool(false), "payload": binary(Array(scram.serverFirst.utf8))],
            change: .authentication(.conversation(conversation)))
    }

    /// The next step of the connection's conversation.
    static func proceed(conversationId: Int32?, payload: [UInt8], context: CommandContext) async throws -> Step {
        guard case .conversation(var conversation) = context.session.authentication,
              conversationId == nil || conversationId == conversation.id, var scram = conversation.scram
        else { throw AuthErrors.noConversation }
        let reply: [UInt8]
        if scram.isComplete {
            reply = []   // the extra empty round trip of clients that do not skip it
        } else {
            do {
                reply = try scram.finish(payload)
            } catch {
                throw await failure(user: conversation.user.user, db: conversation.user.db, mechanism: conversation.mechanism,
                                    reason: "\(error)", context: context)
            }
            conversation.scram = scram
            if !conversation.skipEmptyExchange {
                return Step(reply: fields(conversation.id, done: false, payload: reply),
                            change: .authentication(.conversation(conversation)))
            }
        }
        succeeded(conversation, context: context)
        return Step(reply: fields(conversation.id, done: true, payload: reply),
                    change: .authentication(.authenticated([conversation.user])))
    }

    /// Reads `payload` (BinData, or a string some clients send).
    static func payload(_ value: BSONValue?) throws(CommandError) -> [UInt8] {
        switch value {
        case .binary(let b)?: return b.data
        case .string(let s)?: return Array(s.utf8)
        case nil: throw CommandError.missingField("payload", in: "sasl")
        case let other?: throw CommandError.wrongType("payload", in: "sasl", expected: "binData", got: other.type)
        }
    }

    private static func fields(_ id: Int32, done: Bool, payload: [UInt8]) -> BSONDocument {
        ["conversationId": .int32(id), "done": .bool(done), "payload": binary(payload)]
    }

    private static func binary(_ bytes: [UInt8]) -> BSONValue { .binary(BSONBinary(subtype: 0, data: bytes)) }

    private static func succeeded(_ conversation: SASLConversation, context: CommandContext) {
        let remote = context.connection.remoteAddress
        context.environment.auth.throttle.recordSuccess(AuthFailureThrottle.host(of: remote))
        context.logger.info("Successfully authenticated", metadata: [
            "user": "\(conversation.user.user)", "db": "\(conversation.user.db)",
            "mechanism": "\(conversation.mechanism)", "remote": "\(remote)",
        ])
    }

    /// Logs a failed login with the peer address, waits out the throttle's delay, and returns the
    /// error to throw (always 18, whatever went wrong).
    static func failure(user: String?, db: String, mechanism: String, reason: String, context: CommandContext) async -> CommandError {
        let remote = context.connection.remoteAddress
        let (delay, failures) = context.environment.auth.throttle.recordFailure(AuthFailureThrottle.host(of: remote))
        context.logger.info("Authentication failed", metadata: [
            "user": "\(user ?? "")", "db": "\(db)", "mechanism": "\(mechanism)", "remote": "\(remote)",
            "reason": "\(reason)", "failures": "\(failures)",
        ])
        if delay > .zero { try? await Task.sleep(for: delay) }
        return AuthErrors.authenticationFailed
    }
}
