import Foundation

/// A 12-byte BSON ObjectId: 4 bytes of seconds since the epoch, 5 random bytes per process,
/// and a 3-byte counter.
public struct ObjectId: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The 12 bytes, in order.
    public let bytes: [UInt8]

    /// Wraps exactly 12 bytes; returns nil for any other count.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 12 else { return nil }
        self.bytes = Array(bytes)
    }

    /// Parses 24 hexadecimal digits.
    public init?(hex: String) {
        guard hex.utf8.count == 24, let bytes = hexBytes(hex) else { return nil }
        self.bytes = bytes
    }

    /// A fresh ObjectId for now, unique within this process and very likely across processes.
    public init() {
        self = ObjectIdGenerator.shared.next()
    }

    /// The 24-digit lowercase hexadecimal form.
    public var hex: String { hexString(bytes) }

    /// The creation time encoded in the first four bytes.
    public var timestamp: Date {
        let secs = UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3])
        return Date(timeIntervalSince1970: TimeInterval(secs))
    }

    public var description: String { "ObjectId(\"\(hex)\")" }

    public static func < (lhs: ObjectId, rhs: ObjectId) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}

/// Produces ObjectIds: process-unique random bytes and an atomic-enough counter guarded by a lock.
final class ObjectIdGenerator: @unchecked Sendable {
    static let shared = ObjectIdGenerator()
    private let lock = NSLock()
    private let random: [UInt8]
    private var counter: UInt32

    private init() {
        var rng = SystemRandomNumberGenerator()
        random = (0..<5).map { _ in UInt8.random(in: 0...255, using: &rng) }
        counter = UInt32.random(in: 0...0xFFFFFF, using: &rng)
    }

    func next() -> ObjectId {
        let secs = UInt32(truncatingIfNeeded: Int(Date().timeIntervalSince1970))
        lock.lock()
        counter = (counter &+ 1) & 0xFFFFFF
        let c = counter
        lock.unlock()
        var b = [UInt8](repeating: 0, count: 12)
        b[0] = UInt8(secs >> 24); b[1] = UInt8(truncatingIfNeeded: secs >> 16)
        b[2] = UInt8(truncatingIfNeeded: secs >> 8); b[3] = UInt8(truncatingIfNeeded: secs)
        for i in 0..<5 { b[4 + i] = random[i] }
        b[9] = UInt8(truncatingIfNeeded: c >> 16); b[10] = UInt8(truncatingIfNeeded: c >> 8)
        b[11] = UInt8(truncatingIfNeeded: c)
        return ObjectId(bytes: b) ?? ObjectId(uncheckedBytes: b)
    }
}

extension ObjectId {
    fileprivate init(uncheckedBytes: [UInt8]) { self.bytes = uncheckedBytes }
}

func hexNibble(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
    default: return nil
    }
}

/// Decodes hexadecimal text (either case) into bytes; nil on an odd count or a non-hex digit.
public func hexBytes(_ hex: String) -> [UInt8]? {
    hexBytes(Array(hex.utf8))
}

/// Hex digit pairs to bytes; nil on an odd count or a non-hex digit.
func hexBytes(_ digits: [UInt8]) -> [UInt8]? {
    guard digits.count % 2 == 0 else { return nil }
    var out = [UInt8]()
    out.reserveCapacity(digits.count / 2)
    var i = 0
    while i < digits.count {
        guard let hi = hexNibble(digits[i]), let lo = hexNibble(digits[i + 1]) else { return nil }
        out.append(hi << 4 | lo)
        i += 2
    }
    return out
}

/// Lowercase hexadecimal of some bytes.
public func hexString(_ bytes: some Sequence<UInt8>) -> String {
    let digits: [UInt8] = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}
