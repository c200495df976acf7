import NIOSSL
import PostgresNIO

extension PostgresURL {
    /// What `sslmode` asks for: no TLS, TLS when offered, or TLS required; with the client
    /// configuration (certificate files read now, so a missing one fails the start with its name).
    /// Unix-socket connections never use TLS (as with libpq).
    enum TLSChoice {
        case disable
        case prefer(TLSConfiguration)
        case require(TLSConfiguration)
    }

    func tlsChoice() throws -> TLSChoice {
        switch sslMode {
        case .disable, .allow: return .disable
        case .prefer: return .prefer(try tlsConfiguration(.none))
        case .require: return .require(try tlsConfiguration(rootCertificate == nil ? .none : .noHostnameVerification))
        case .verifyCA: return .require(try tlsConfiguration(.noHostnameVerification))
        case .verifyFull: return .require(try tlsConfiguration(.fullVerification))
        }
    }

    private func tlsConfiguration(_ verification: CertificateVerification) throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = verification
        if let rootCertificate {
            configuration.trustRoots = .certificates(try Self.reading("sslrootcert", rootCertificate) { try NIOSSLCertificate.fromPEMFile($0) })
        }
        if let clientCertificate, let clientKey {
            configuration.certificateChain = try Self.reading("sslcert", clientCertificate) { try NIOSSLCertificate.fromPEMFile($0) }
                .map { .certificate($0) }
            configuration.privateKey = .privateKey(try Self.reading("sslkey", clientKey) { try NIOSSLPrivateKey(file: $0, format: .pem) })
        }
        return configuration
    }

    /// Loads one certificate file; a failure names the option and the path.
    private static func reading<T>(_ option: String, _ path: String, _ load: (String) throws -> T) throws -> T {
        do {
            return try load(path)
        } catch {
            throw PostgresURLError("cannot read \(option) \(path): \(error)")
        }
    }
}

extension PostgresURL.TLSChoice {
    /// For one connection (the start-up probe).
    func connectionTLS() throws -> PostgresConnection.Configuration.TLS {
        switch self {
        case .disable: return .disable
        case .prefer(let c): return .prefer(try NIOSSLContext(configuration: c))
        case .require(let c): return .require(try NIOSSLContext(configuration: c))
        }
    }

    /// For the pool.
    var clientTLS: PostgresClient.Configuration.TLS {
        switch self {
        case .disable: return .disable
        case .prefer(let c): return .prefer(c)
        case .require(let c): return .require(c)
        }
    }
}
