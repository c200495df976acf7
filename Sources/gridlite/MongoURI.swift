import Foundation

/// The parts of a `mongodb://` connection string the operator commands' `--uri` mode uses:
/// `mongodb://[user:password@]host[:port][/authdb][?authSource=…&authMechanism=…]`. One host
/// (the commands talk to one daemon); user and password percent-decoded as drivers do.
struct MongoURI: Sendable {
    var host: String
    var port: Int
    var user: String?
    var password: String?
    /// Where the user is defined (`authSource`, else the path's database, else `admin`).
    var authSource: String
    /// `SCRAM-SHA-1` / `SCRAM-SHA-256`, nil: the server's choice (SHA-256 when it has it).
    var authMechanism: String?
    /// The TLS options when `tls=true` / `ssl=true` was asked for (nil: plain TCP).
    var tls: ClientTLSOptions?

    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    /// Parses `text`; throws ``Invalid`` with a one-line reason (never echoing the password).
    init(_ text: String) throws {
        guard text.hasPrefix("mongodb://") else { throw Invalid(description: "--uri must start with mongodb://") }
        var rest = Substring(text.dropFirst("mongodb://".count))
        var query = ""
        if let q = rest.firstIndex(of: "?") {
            query = String(rest[rest.index(after: q)...])
            rest = rest[..<q]
        }
        var path = ""
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[rest.index(after: slash)...])
            rest = rest[..<slash]
        }
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let parts = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let user = parts.first.flatMap({ String($0).removingPercentEncoding }), !user.isEmpty else {
                throw Invalid(description: "--uri has an empty or badly encoded user name")
            }
            self.user = user
            if parts.count > 1 {
                guard let password = String(parts[1]).removingPercentEncoding else {
                    throw Invalid(description: "--uri has a badly encoded password")
                }
                self.password = password
            }
        }
        guard !rest.contains(",") else { throw Invalid(description: "--uri names several hosts; give the one daemon to use") }
        var host = String(rest)
        var port = 27017
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw Invalid(description: "--uri has an unclosed [ in its host") }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { throw Invalid(description: "--uri has a bad port") }
                port = p
            }
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.lastIndex(of: ":") {
            guard let p = Int(host[host.index(after: colon)...]), (1...65535).contains(p) else {
                throw Invalid(description: "--uri has a bad port")
            }
            port = p
            host = String(host[..<colon])
        }
        guard !host.isEmpty else { throw Invalid(description: "--uri has no host") }
        self.host = host
        self.port = port
        var options: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            options[String(kv[0]).lowercased()] = kv.count > 1 ? (String(kv[1]).removingPercentEncoding ?? String(kv[1])) : ""
        }
        authSource = options["authsource"] ?? (path.isEmpty ? "admin" : path)
        authMechanism = options["authmechanism"]
        if let mechanism = authMechanism, mechanism != "SCRAM-SHA-1", mechanism != "SCRAM-SHA-256" {
            throw Invalid(description: "--uri asks for authMechanism=\(mechanism); gridlite speaks SCRAM-SHA-1 and SCRAM-SHA-256")
        }
        func flag(_ name: String) throws -> Bool {
            guard let value = options[name] else { return false }
            switch value.lowercased() {
            case "true", "1": return true
            case "false", "0": return false
            default: throw Invalid(description: "--uri option \(name) must be true or false, not \(value)")
            }
        }
        let insecure = try flag("tlsinsecure")
        let tlsOptions = ClientTLSOptions(
            caFile: options["tlscafile"], certificateKeyFile: options["tlscertificatekeyfile"],
            allowInvalidCertificates: try flag("tlsallowinvalidcertificates") || insecure,
            allowInvalidHostnames: try flag("tlsallowinvalidhostnames") || insecure)
        let anyTLSOption = tlsOptions != ClientTLSOptions()
        if options["tls"] != nil || options["ssl"] != nil {
            let wanted = try flag(options["tls"] != nil ? "tls" : "ssl")
            if !wanted, anyTLSOption { throw Invalid(description: "--uri has tls=false with tls options") }
            tls = wanted ? tlsOptions : nil
        } else {
            tls = anyTLSOption ? tlsOptions : nil  // a tls… option implies tls=true, as in drivers
        }
    }

    /// `host:port`, for messages.
    var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
