/// What an HTTP request wants to do, for the role check.
public enum HTTPAccess: Sendable, Equatable {
    /// GET/HEAD of files and listings in a database (`read` or better).
    case read(database: String)
    /// PUT/POST/DELETE of files in a database (`readWrite` or better).
    case write(database: String)
    /// Server-wide: the database list and `/metrics` (any authenticated user).
    case server
}

/// The answer of a credential check.
public enum HTTPAuthorization: Sendable, Equatable {
    /// Known user, and their roles allow the access.
    case allowed
    /// No credentials, or wrong ones: 401 with a `WWW-Authenticate: Basic` challenge.
    case unauthenticated
    /// Known user without the role: 403.
    case forbidden
}

/// The seam between the gateway and the server's users: when authentication is on, every
/// request but `/livez` and `/readyz` carries HTTP Basic credentials, which an implementation
/// checks against the same users and roles the wire protocol's SCRAM uses (for example by
/// deriving the SCRAM salted password with PBKDF2 and comparing the stored key), so HTTP and
/// the wire agree on who may read (`read`) and who may write (`readWrite`).
public protocol HTTPCredentialVerifier: Sendable {
    /// Checks a user name and password (already Base64-decoded from `Authorization: Basic`)
    /// for an access. `client` is the peer's address without the port ("" when unknown), so that
    /// repeated failures from one address can be slowed down as on the wire. Must not log the
    /// password.
    func authorize(username: String, password: String, access: HTTPAccess, client: String) async -> HTTPAuthorization
}

/// Reads `Authorization: Basic <base64(user:password)>`.
enum BasicCredentials {
    /// The user and password, or nil when the header is absent or not Basic.
    static func parse(_ header: String?) -> (user: String, password: String)? {
        guard let header else { return nil }
        let parts = header.trimmingOWS().split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
              let decoded = Base64.decode(parts[1].trimmingOWS()),
              let text = String(validating: decoded, as: UTF8.self),
              let colon = text.firstIndex(of: ":") else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }
}

/// Standard Base64 (RFC 4648 §4) decoding, padding optional; nil for anything malformed.
enum Base64 {
    static func decode(_ text: Substring) -> [UInt8]? {
        var out: [UInt8] = []
        var acc: UInt32 = 0
        var bits = 0
        var padding = 0
        for c in text.utf8 {
            let v: UInt32
            switch c {
            case 0x41...0x5A: v = UInt32(c - 0x41)
            case 0x61...0x7A: v = UInt32(c - 0x61 + 26)
            case 0x30...0x39: v = UInt32(c - 0x30 + 52)
            case 0x2B: v = 62
            case 0x2F: v = 63
            case 0x3D: padding += 1; continue
            default: return nil
            }
            if padding > 0 { return nil }
            acc = acc << 6 | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        return padding <= 2 ? out : nil
    }
}
