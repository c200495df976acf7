import CBSONShim

/// An IEEE 754-2008 128-bit decimal, kept as its two 64-bit words. Text conversion goes
/// through libbson; numeric comparison lives in the Query module.
public struct Decimal128: Sendable, Hashable, CustomStringConvertible {
    /// The low 64 bits (the first eight bytes on the wire, little-endian).
    public let low: UInt64
    /// The high 64 bits (sign, combination field, exponent and the top of the coefficient).
    public let high: UInt64

    /// Wraps the two words as stored.
    public init(low: UInt64, high: UInt64) {
        self.low = low
        self.high = high
    }

    /// Parses a decimal string such as `"1.5E+3"`, `"NaN"` or `"-Infinity"`.
    public init?(_ text: String) {
        var lo: UInt64 = 0
        var hi: UInt64 = 0
        let ok = text.withCString { gl_decimal128_from_string($0, &lo, &hi) }
        guard ok else { return nil }
        self.init(low: lo, high: hi)
    }

    /// The canonical string form libbson and MongoDB print.
    public var description: String {
        // IEEE 754-2008: a coefficient above 10^34 - 1 is non-canonical and means zero (same sign
        // and exponent). libbson prints such a coefficient's 35 digits, so zero it here first.
        let canonical = hasNonCanonicalCoefficient ? Decimal128(low: 0, high: high & ~Decimal128.coefficientHighMask) : self
        var buf = [CChar](repeating: 0, count: 64)
        buf.withUnsafeMutableBufferPointer { p in
            gl_decimal128_to_string(canonical.low, canonical.high, p.baseAddress)
        }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The bits of `high` that hold the top of the coefficient in the common form (combination
    /// bits not `11`).
    static let coefficientHighMask: UInt64 = 0x0001_FFFF_FFFF_FFFF

    /// Whether the common-form coefficient exceeds 10^34 - 1 (0x1ED09BEAD87C0378D8E63FFFFFFFF).
    /// The `11` form is handled by libbson; NaN and infinities have no coefficient.
    var hasNonCanonicalCoefficient: Bool {
        guard (high >> 61) & 0b11 != 0b11 else { return false }
        let top = high & Decimal128.coefficientHighMask
        let maxTop: UInt64 = 0x0001_ED09_BEAD_87C0
        let maxLow: UInt64 = 0x378D_8E63_FFFF_FFFF
        return top > maxTop || (top == maxTop && low > maxLow)
    }

    /// The value as a Double (approximate; NaN and infinities carried over).
    public var doubleValue: Double {
        Double(description) ?? parseSpecial()
    }

    private func parseSpecial() -> Double {
        switch description {
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: return .nan
        }
    }

    /// The 16 bytes as they appear on the wire.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(16)
        withUnsafeBytes(of: low.littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: high.littleEndian) { out.append(contentsOf: $0) }
        return out
    }
}
