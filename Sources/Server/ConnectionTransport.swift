import Commands
import NIOCore
import Synchronization

/// What a just-accepted connection turned out to be, decided in its pipeline before its first
/// frame: plain, TLS (after the handshake), or closed before either.
final class ConnectionTransport: Sendable {
    /// The outcome of the first bytes (and of the TLS handshake).
    enum Outcome: Sendable {
        /// A plain wire-protocol connection.
        case plain
        /// A TLS connection whose handshake has completed.
        case tls(TLSConnectionFacts)
        /// Closed (refused, failed handshake, or the peer left) before either.
        case closed
    }

    private let promise: EventLoopPromise<Outcome>

    /// A transport whose outcome is completed on `eventLoop` (the channel's).
    init(eventLoop: any EventLoop) {
        promise = eventLoop.makePromise(of: Outcome.self)
    }

    /// Completes the outcome; later calls are ignored.
    func resolve(_ outcome: Outcome) {
        if resolved.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged {
            promise.succeed(outcome)
        }
    }

    /// Waits for the outcome.
    func outcome() async -> Outcome {
        (try? await promise.futureResult.get()) ?? .closed
    }

    private let resolved = Atomic<Bool>(false)
}
