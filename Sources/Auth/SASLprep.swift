import Foundation

/// SASLprep (RFC 4013, the stringprep profile for user names and passwords), as SCRAM-SHA-256
/// applies it to passwords. What is implemented:
/// - mapping: "commonly mapped to nothing" characters (stringprep B.1) are removed, then non-ASCII
///   spaces (C.1.2) become U+0020;
/// - normalization: Unicode NFKC (Foundation's `precomposedStringWithCompatibilityMapping`);
/// - prohibited output: C.1.2, C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7, C.8 and C.9;
/// - bidirectional check (RFC 3454 §6): a string with a right-to-left character (D.1) must not
///   contain a left-to-right one and must begin and end with a right-to-left character.
///
/// The subset: left-to-right characters are approximated as letters and spacing marks outside D.1
/// (the exact D.2 table is not built in), and unassigned code points are allowed (stringprep's
/// rule for "queries", which is what a login is), as pymongo's `saslprep` does by default.
public enum SASLprep {
    /// Errors: the string holds a prohibited character or fails the bidirectional rule.
    public enum Failure: Error, Sendable, Equatable {
        /// A prohibited code point (its scalar value).
        case prohibited(UInt32)
        /// Mixed or badly placed right-to-left characters.
        case bidirectional
    }

    /// The prepared form of `input`.
    public static func prepare(_ input: String) throws(Failure) -> String {
        // Fast path: printable ASCII is unchanged by every step.
        if input.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return input }
        var mapped = String.UnicodeScalarView()
        for scalar in input.unicodeScalars {
            let v = scalar.value
            if mappedToNothing(v) { continue }
            mapped.append(nonASCIISpace(v) ? " " : scalar)
        }
        let normalized = String(mapped).precomposedStringWithCompatibilityMapping
        var hasRandAL = false
        var hasL = false
        for scalar in normalized.unicodeScalars {
            let v = scalar.value
            if prohibited(v) { throw .prohibited(v) }
            if randALCat(v) {
                hasRandAL = true
            } else if leftToRight(scalar) {
                hasL = true
            }
        }
        if hasRandAL {
            let scalars = normalized.unicodeScalars
            guard !hasL, let first = scalars.first, let last = scalars.last,
                  randALCat(first.value), randALCat(last.value)
            else { throw .bidirectional }
        }
        return normalized
    }

    /// stringprep B.1: characters commonly mapped to nothing.
    static func mappedToNothing(_ v: UInt32) -> Bool {
        switch v {
        case 0x00AD, 0x034F, 0x1806, 0x180B...0x180D, 0x200B...0x200D, 0x2060, 0xFE00...0xFE0F, 0xFEFF: return true
        default: return false
        }
    }

    /// stringprep C.1.2: non-ASCII space characters.
    static func nonASCIISpace(_ v: UInt32) -> Bool {
        switch v {
        case 0x00A0, 0x1680, 0x2000...0x200B, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    /// The prohibited tables of RFC 4013 §2.3.
    static func prohibited(_ v: UInt32) -> Bool {
        if nonASCIISpace(v) { return true }                                 // C.1.2
        switch v {
        case 0x0000...0x001F, 0x007F: return true                           // C.2.1
        case 0x0080...0x009F, 0x06DD, 0x070F, 0x180E, 0x200C, 0x200D, 0x2028, 0x2029,
             0x2060...0x2063, 0x206A...0x206F, 0xFEFF, 0xFFF9...0xFFFC, 0x1D173...0x1D17A: return true  // C.2.2
        case 0xE000...0xF8FF, 0xF0000...0xFFFFD, 0x100000...0x10FFFD: return true  // C.3
        case 0xFDD0...0xFDEF: return true                                   // C.4
        case 0xD800...0xDFFF: return true                                   // C.5
        case 0xFFFD: return true                                            // C.6 (FFF9-FFFC above)
        case 0x0340, 0x0341, 0x200E, 0x200F, 0x202A...0x202E: return true   // C.8
        case 0x2FF0...0x2FFB: return true                                   // C.7
        case 0xE0001, 0xE0020...0xE007F: return true                        // C.9
        default:
            return (v & 0xFFFE) == 0xFFFE                                   // C.4: U+nFFFE, U+nFFFF
        }
    }

    /// stringprep D.1: characters with bidirectional property R or AL.
    static func randALCat(_ v: UInt32) -> Bool {
        switch v {
        case 0x05BE, 0x05C0, 0x05C3, 0x05D0...0x05EA, 0x05F0...0x05F4, 0x061B, 0x061F, 0x0621...0x063A,
             0x0640...0x064A, 0x066D...0x066F, 0x0671...0x06D5, 0x06DD, 0x06E5...0x06E6, 0x06FA...0x06FE,
             0x0700...0x070D, 0x0710, 0x0712...0x072C, 0x0780...0x07A5, 0x07B1, 0x200F, 0xFB1D,
             0xFB1F...0xFB28, 0xFB2A...0xFB36, 0xFB38...0xFB3C, 0xFB3E, 0xFB40...0xFB41, 0xFB43...0xFB44,
             0xFB46...0xFBB1, 0xFBD3...0xFD3D, 0xFD50...0xFD8F, 0xFD92...0xFDC7, 0xFDF0...0xFDFC,
             0xFE70...0xFE74, 0xFE76...0xFEFC:
            return true
        default:
            return false
        }
    }

    /// An approximation of stringprep D.2 (bidirectional property L): letters and spacing marks.
    static func leftToRight(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .spacingMark:
            return true
        default:
            return false
        }
    }
}
