import Foundation

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
                guard item.value == "disable" || item.value == "prefer" || item.value == "allow" else {
                    throw PostgresURLError("sslmode=\(item.value ?? "") is not supported (TLS to PostgreSQL is not implemented; use disable)")
                }
            case "application_name", "connect_timeout":
                continue
            default:
                throw PostgresURLError("unknown URL option '\(item.name)'")
            }
        }
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
