import Auth
import BSON

/// What one connection has negotiated: the handshake's client metadata, the peer, authentication,
/// compression, load-balanced mode. A pure value-type state machine (no I/O, no locks), owned by
/// the server's connection task and unit-tested without sockets.
///
/// Commands read it through ``CommandContext/session``. The few that change it (`hello`; later
/// `saslStart`/`saslContinue`/`logout`) decide a ``SessionChange`` from the current state and return
/// it in their ``CommandOutcome``; the connection applies it with ``apply(_:)`` after the command,
/// so no command mutates shared state and requests on one connection stay strictly ordered.
public struct ConnectionSession: Sendable, Equatable {
    /// Where the connection is in its life.
    public enum Phase: Sendable, Equatable {
        /// No `hello` yet: client metadata may still be sent.
        case awaitingHandshake
        /// A `hello` (or `isMaster`) has been answered: the client metadata is final.
        case established
    }

    /// The connection's id and addresses.
    public let connection: ConnectionInfo
    /// Where the handshake stands.
    public private(set) var phase: Phase = .awaitingHandshake
    /// The first `hello`'s `client` document, if it had one.
    public private(set) var clientMetadata: ClientMetadata?
    /// Who is authenticated (`saslStart`/`saslContinue`/`logout` change it).
    public private(set) var authentication: AuthenticationState = .unauthenticated
    /// Compressors agreed on in the handshake, in the client's order (none until OP_COMPRESSED lands).
    public private(set) var compressors: [String] = []
    /// Whether the client connected in load-balanced mode (its first `hello` said `loadBalanced: true`).
    public private(set) var loadBalanced = false
    /// `hello`s answered on this connection (monitoring connections send one every few seconds).
    public private(set) var handshakes = 0

    /// A fresh session for a just-accepted connection.
    public init(connection: ConnectionInfo) {
        self.connection = connection
    }

    /// `client.application.name`, if the driver sent one.
    public var applicationName: String? { clientMetadata?.applicationName }

    /// Decides what a `hello` changes. `client` may only come with the first `hello` of a
    /// connection (mongod: 186 ClientMetadataCannotBeMutated) and must pass mongod's checks.
    /// `compressors` are the ones this `hello` agreed on (kept from the first handshake only, like
    /// the metadata). `loadBalanced` is the first `hello`'s `loadBalanced: true` (the connection
    /// came through a load balancer; the reply carried a `serviceId`).
    public func hello(client: BSONValue?, compressors: [String] = [], loadBalanced: Bool = false) throws(CommandError) -> SessionChange {
        var metadata: ClientMetadata?
        if let client {
            guard phase == .awaitingHandshake else {
                throw CommandError(
                    code: 186, codeName: "ClientMetadataCannotBeMutated",
                    message: "The client metadata document may only be sent in the first hello")
            }
            metadata = try ClientMetadata(client)
        }
        return .handshake(Handshake(clientMetadata: metadata, compressors: compressors, loadBalanced: loadBalanced))
    }

    /// Applies a change a command returned. Deterministic and total: a change that does not fit
    /// the state (a second handshake's metadata) leaves that part unchanged.
    public mutating func apply(_ change: SessionChange) {
        switch change {
        case .handshake(let handshake):
            if phase == .awaitingHandshake {
                clientMetadata = handshake.clientMetadata
                compressors = handshake.compressors
                loadBalanced = handshake.loadBalanced
                phase = .established
            }
            handshakes &+= 1
        case .authentication(let state):
            authentication = state
        }
    }
}

/// What a command changes in its connection's session; returned, never applied by the command.
public enum SessionChange: Sendable, Equatable {
    /// A `hello` was answered with this outcome.
    case handshake(Handshake)
    /// Authentication moved to a new state (`saslStart`, `saslContinue`, `logout`).
    case authentication(AuthenticationState)
}

/// What one `hello` negotiated.
public struct Handshake: Sendable, Equatable {
    /// The `client` document, when this `hello` carried one.
    public var clientMetadata: ClientMetadata?
    /// Compressors agreed on (the intersection with the client's list, in its order).
    public var compressors: [String]
    /// Whether load-balanced mode was agreed.
    public var loadBalanced: Bool

    /// Creates a handshake outcome.
    public init(clientMetadata: ClientMetadata?, compressors: [String], loadBalanced: Bool) {
        self.clientMetadata = clientMetadata
        self.compressors = compressors
        self.loadBalanced = loadBalanced
    }
}

/// A user as MongoDB names one: user name and the database that holds its credentials.
public struct UserName: Sendable, Hashable {
    /// The user name.
    public var user: String
    /// The authentication database.
    public var db: String

    /// Creates a user name.
    public init(user: String, db: String) {
        self.user = user
        self.db = db
    }
}

/// Authentication on one connection.
public enum AuthenticationState: Sendable, Equatable {
    /// Nobody has authenticated.
    case unauthenticated
    /// A SASL conversation is under way (between `saslStart` and its last `saslContinue`).
    case conversation(SASLConversation)
    /// These users are authenticated.
    case authenticated([UserName])

    /// The authenticated users (empty unless ``authenticated(_:)``; during a conversation, the
    /// users authenticated before it).
    public var users: [UserName] {
        switch self {
        case .authenticated(let users): return users
        case .conversation(let c): return c.previousUsers
        case .unauthenticated: return []
        }
    }
}

/// A SASL exchange in progress: which mechanism, for which user, at which step.
public struct SASLConversation: Sendable, Equatable {
    /// `conversationId` as the client echoes it.
    public var id: Int32
    /// `SCRAM-SHA-256` or `SCRAM-SHA-1`.
    public var mechanism: String
    /// The user being authenticated.
    public var user: UserName
    /// The SCRAM server state (nonces, the stored credential, the step).
    public var scram: ScramServer?
    /// `options.skipEmptyExchange`: answer `done: true` with the server signature instead of
    /// waiting for one more empty `saslContinue`.
    public var skipEmptyExchange: Bool
    /// Users authenticated before this conversation started (kept if it fails).
    public var previousUsers: [UserName]

    /// Creates a conversation.
    public init(id: Int32, mechanism: String, user: UserName, scram: ScramServer? = nil,
                skipEmptyExchange: Bool = false, previousUsers: [UserName] = []) {
        self.id = id
        self.mechanism = mechanism
        self.user = user
        self.scram = scram
        self.skipEmptyExchange = skipEmptyExchange
        self.previousUsers = previousUsers
    }
}
