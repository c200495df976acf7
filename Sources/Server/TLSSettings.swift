import NIOSSL
import Synchronization

/// `--tlsMode`, as mongod's `net.tls.mode`.
public enum TLSMode: String, Sendable, CaseIterable {
    /// No TLS; a TLS ClientHello closes the connection (with a logged reason).
    case disabled
    /// TLS and plain connections on the same port (mongod: the server itself prefers plain).
    case allowTLS
    /// TLS and plain connections on the same port (mongod: the server itself prefers TLS).
    case preferTLS
    /// TLS only; a plain connection is closed with a logged reason.
    case requireTLS

    /// Whether TLS connections are served.
    public var servesTLS: Bool { self != .disabled }
    /// Whether plain connections are served.
    public var servesPlain: Bool { self != .requireTLS }
}

/// A TLS set-up problem (unreadable or malformed certificate, key or CA file; a key that does not
/// match the certificate): one line, for the start-up error or the SIGHUP reload log line.
public struct TLSSetupError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, naming the file.
    public let description: String

    /// Creates an error with its one-line message.
    public init(_ description: String) { self.description = description }
}

/// The PEM contents TLS is built from (the executable reads the files, so it can name them in errors).
public struct TLSMaterial: Sendable {
    /// `--tlsCertificateKeyFile`: the certificate chain (leaf first) and its private key.
    public var certificateKeyPEM: [UInt8]
    /// `--tlsCAFile`: the CAs client certificates are verified against; nil: client certificates
    /// are neither requested nor verified.
    public var caPEM: [UInt8]?
    /// `--tlsAllowConnectionsWithoutCertificates`: with a CA file, a client without a certificate
    /// is accepted (one that presents a certificate must still pass verification).
    public var allowConnectionsWithoutCertificates: Bool
    /// Where the certificate and key came from (a path), for error messages.
    public var certificateKeySource: String
    /// Where the CAs came from (a path), for error messages.
    public var caSource: String

    /// Creates the material.
    public init(
        certificateKeyPEM: [UInt8], caPEM: [UInt8]?, allowConnectionsWithoutCertificates: Bool,
        certificateKeySource: String = "the certificate key file", caSource: String = "the CA file"
    ) {
        self.certificateKeyPEM = certificateKeyPEM
        self.caPEM = caPEM
        self.allowConnectionsWithoutCertificates = allowConnectionsWithoutCertificates
        self.certificateKeySource = certificateKeySource
        self.caSource = caSource
    }

    /// A server context: TLS 1.2 or later, the chain and key, client certificates per the CA options.
    public func makeContext() throws(TLSSetupError) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(certificateKeyPEM)
        } catch {
            throw TLSSetupError("\(certificateKeySource): no PEM certificate in it")
        }
        guard !chain.isEmpty else { throw TLSSetupError("\(certificateKeySource): no PEM certificate in it") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: certificateKeyPEM, format: .pem)
        } catch {
            throw TLSSetupError("\(certificateKeySource): no PEM private key in it")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        if let caPEM {
            let roots: [NIOSSLCertificate]
            do {
                roots = try NIOSSLCertificate.fromPEMBytes(caPEM)
            } catch {
                throw TLSSetupError("\(caSource): no PEM certificate in it")
            }
            guard !roots.isEmpty else { throw TLSSetupError("\(caSource): no PEM certificate in it") }
            configuration.trustRoots = .certificates(roots)
            // Client certificates cannot be checked against a host name.
            configuration.certificateVerification =
                allowConnectionsWithoutCertificates ? .optionalVerification : .noHostnameVerification
        } else {
            configuration.certificateVerification = .none
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError("\(certificateKeySource): the private key does not match the certificate, or is unusable (\(error))")
        }
    }
}

/// The server's current TLS context. New connections take the context current when they start
/// their handshake; ``reload()`` (SIGHUP) swaps it without touching open connections.
public final class TLSContextStore: Sendable {
    private let current: Mutex<NIOSSLContext>
    private let load: @Sendable () throws(TLSSetupError) -> TLSMaterial

    /// Builds the first context from what `load` returns (it reads the files again on every reload).
    public init(load: @escaping @Sendable () throws(TLSSetupError) -> TLSMaterial) throws(TLSSetupError) {
        self.load = load
        self.current = Mutex(try load().makeContext())
    }

    /// The context for a new connection.
    public var context: NIOSSLContext { current.withLock { $0 } }

    /// Loads the files again; on failure the previous context stays in use and the error is thrown.
    public func reload() throws(TLSSetupError) {
        let fresh = try load().makeContext()
        current.withLock { $0 = fresh }
    }
}

/// How the server treats TLS: the mode and, unless disabled, where its contexts come from.
public struct TLSServerSettings: Sendable {
    /// `--tlsMode`.
    public var mode: TLSMode
    /// The certificate contexts; nil when the mode is ``TLSMode/disabled``.
    public var contexts: TLSContextStore?

    /// Plain only (the default).
    public static let disabled = TLSServerSettings(mode: .disabled, contexts: nil)

    /// Creates settings.
    public init(mode: TLSMode, contexts: TLSContextStore?) {
        self.mode = mode
        self.contexts = contexts
    }
}
