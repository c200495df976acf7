import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A `postgresql://user:password@host:port/database?options` URL, parsed. The password is kept
/// for connecting only: ``redacted`` is what logs and error messages show.
public struct PostgresURL: Sendable, Equatable {
    /// Host name or address (default `localhost`), or a socket directory when it starts with `/`.
    public var host: String
    /// TCP port (default 5432).
    public var port: Int
    /// User name (default `postgres`).
    public var user: String
    /// Password, if the URL has one.
    public var password: String?
    /// Database name (default: the user name).
    public var database: String
    /// Connections this daemon may open (`?max_connections=`, default 16).
    public var maximumConnections: Int
    /// TLS to PostgreSQL (`?sslmode=`, libpq's names; default `disable`).
    public var sslMode: SSLMode = .disable
    /// PEM file of the certificate authorities that sign the server's certificate
    /// (`?sslrootcert=`; the system's trust store when absent).
    public var rootCertificate: String?
    /// PEM files of a client certificate and its key (`?sslcert=`, `?sslkey=`), for servers that
    /// authenticate clients by certificate.
    public var clientCertificate: String?
    public var clientKey: String?

    /// libpq's `sslmode` values.
    public enum SSLMode: String, Sendable, Equatable {
        /// No TLS (also what `allow` does: libpq tries a plain connection first).
        case disable, allow
        /// TLS when the server offers it, its certificate unchecked; plain otherwise.
        case prefer
        /// TLS or no connection; the certificate is checked against `sslrootcert` when one is
        /// given (as libpq does), not otherwise.
        case require
        /// TLS; the certificate must be signed by a trusted authority.
        case verifyCA = "verify-ca"
        /// TLS; the certificate must be signed by a trusted authority and name the host.
        case verifyFull = "verify-full"
    }

    /// True when `text` names a PostgreSQL URL (`postgresql://` or `postgres://`).
    public static func isPostgresURL(_ text: String) -> Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
    }

    /// Parses a URL; the error says what is wrong in one line (without the password).
    public init(_ text: String) throws(PostgresURLError) {
        guard Self.isPostgresURL(text), let components = URLComponents(string: text) else {
            throw PostgresURLError("not a postgresql:// URL")
        }
        user = components.percentEncodedUser.flatMap { $0.removingPercentEncoding } ?? "postgres"
        password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        host = components.host.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding } ?? "localhost"
        port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw PostgresURLError("port \(port) out of range") }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? user : (path.removingPercentEncoding ?? path)
        maximumConnections = 16
        for item in components.queryItems ?? [] {
            switch item.name {
            case "host":
                // libpq style: ?host=/path/to/socket/dir
                if let value = item.value, !value.isEmpty { host = value }
            case "max_connections", "pool_size":
                guard let value = item.value.flatMap(Int.init), (1...1000).contains(value) else {
                    throw PostgresURLError("\(item.name) must be 1...1000")
                }
                maximumConnections = value
            case "sslmode":
                guard let mode = item.value.flatMap(SSLMode.init(rawValue:)) else {
                    throw PostgresURLError("sslmode=\(item.value ?? "") is not one of disable, allow, prefer, require, verify-ca, verify-full")
                }
                sslMode = mode
            case "sslrootcert", "sslcert", "sslkey":
                guard let value = item.value, !value.isEmpty else { throw PostgresURLError("\(item.name) needs a file path") }
                switch item.name {
                case "sslrootcert": rootCertificate = value
                case "sslcert": clientCertificate = value
                default: clientKey = value
                }
            case "application_name", "connect_timeout":
                continue
            default:
                throw PostgresURLError("unknown URL option '\(item.name)'")
            }
        }
        if (clientCertificate == nil) != (clientKey == nil) { throw PostgresURLError("sslcert and sslkey go together") }
        if sslMode == .verifyFull && (host.hasPrefix("/") || Self.isIPAddress(host)) {
            // The TLS library checks host names only; an address would go unchecked.
            throw PostgresURLError("sslmode=verify-full needs a host name, not \(host) (use verify-ca to check the certificate's signer only)")
        }
    }

    /// True for an IPv4 or IPv6 address literal.
    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// The Unix socket path when ``host`` is a directory (`<dir>/.s.PGSQL.<port>`).
    public var socketPath: String? {
        host.hasPrefix("/") ? "\(host)/.s.PGSQL.\(port)" : nil
    }

    /// The URL with the password hidden, for logs.
    public var redacted: String {
        let auth = password == nil ? user : "\(user):***"
        return host.hasPrefix("/") ? "postgresql://\(auth)@/\(database)?host=\(host)&port=\(port)"
            : "postgresql://\(auth)@\(host):\(port)/\(database)"
    }
}

/// A malformed PostgreSQL URL.
public struct PostgresURLError: Error, CustomStringConvertible, Sendable {
    /// What is wrong.
    public let description: String

    init(_ description: String) { self.description = description }

    /// No URL was given.
    public static let missing = PostgresURLError("no PostgreSQL URL")
}
