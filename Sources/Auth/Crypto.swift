import CCrypto

/// The hash functions SCRAM uses, over the system libcrypto (module `CCrypto`).
public enum HashFunction: Sendable, Hashable {
    /// SHA-1 (SCRAM-SHA-1): 20-byte digests.
    case sha1
    /// SHA-256 (SCRAM-SHA-256): 32-byte digests.
    case sha256

    /// The digest length in bytes.
    public var length: Int {
        switch self {
        case .sha1: return 20
        case .sha256: return 32
        }
    }

    var kind: Int32 {
        switch self {
        case .sha1: return 1
        case .sha256: return 2
        }
    }
}

/// Errors of the crypto primitives (libcrypto reported a failure; never expected in practice).
public struct CryptoError: Error, Sendable, CustomStringConvertible {
    /// What failed.
    public let operation: String
    public var description: String { "libcrypto: \(operation) failed" }
}

/// Thin wrappers over libcrypto's digest, HMAC, PBKDF2 and random bytes.
public enum Crypto {
    /// The digest of `data`.
    public static func hash(_ function: HashFunction, _ data: [UInt8]) throws(CryptoError) -> [UInt8] {
        try digest(function.kind, data)
    }

    /// MD5 of `data` as lower-case hex (SCRAM-SHA-1's password digest, as MongoDB defines it).
    public static func md5Hex(_ data: [UInt8]) throws(CryptoError) -> String {
        hex(try digest(0, data))
    }

    /// HMAC(key, data).
    public static func hmac(_ function: HashFunction, key: [UInt8], _ data: [UInt8]) throws(CryptoError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let n = key.withUnsafeBufferPointer { k in
            data.withUnsafeBufferPointer { d in
                out.withUnsafeMutableBufferPointer { o in
                    gridlite_hmac(function.kind, k.baseAddress, k.count, d.baseAddress, d.count, o.baseAddress)
                }
            }
        }
        guard n == Int32(function.length) else { throw CryptoError(operation: "HMAC") }
        return Array(out.prefix(Int(n)))
    }

    /// PBKDF2-HMAC with `iterations` rounds, producing one digest length of key.
    public static func pbkdf2(
        _ function: HashFunction, password: [UInt8], salt: [UInt8], iterations: Int
    ) throws(CryptoError) -> [UInt8] {
        guard iterations > 0, iterations <= Int(Int32.max) else { throw CryptoError(operation: "PBKDF2 (iterations)") }
        var out = [UInt8](repeating: 0, count: function.length)
        let ok = password.withUnsafeBufferPointer { p in
            salt.withUnsafeBufferPointer { s in
                out.withUnsafeMutableBufferPointer { o in
                    gridlite_pbkdf2(function.kind, p.baseAddress, p.count, s.baseAddress, s.count,
                                    Int32(iterations), o.baseAddress, o.count)
                }
            }
        }
        guard ok == 1 else { throw CryptoError(operation: "PBKDF2") }
        return out
    }

    /// `count` bytes from libcrypto's CSPRNG.
    public static func randomBytes(_ count: Int) throws(CryptoError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: max(0, count))
        let ok = out.withUnsafeMutableBufferPointer { o in gridlite_random(o.baseAddress, o.count) }
        guard ok == 1 else { throw CryptoError(operation: "RAND_bytes") }
        return out
    }

    /// Compares two byte strings in time independent of where they differ.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    /// Lower-case hex.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func digest(_ kind: Int32, _ data: [UInt8]) throws(CryptoError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        let n = data.withUnsafeBufferPointer { d in
            out.withUnsafeMutableBufferPointer { o in gridlite_digest(kind, d.baseAddress, d.count, o.baseAddress) }
        }
        guard n > 0 else { throw CryptoError(operation: "digest") }
        return Array(out.prefix(Int(n)))
    }
}
