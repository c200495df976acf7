/// Strict UTF-8 validation of a byte range, as the BSON specification requires for keys and
/// strings: no overlong forms, no surrogates, nothing above U+10FFFF, no truncated sequences.
/// NUL bytes are allowed (strings may contain them; keys cannot by construction).
func isValidUTF8(_ bytes: [UInt8], _ range: Range<Int>) -> Bool {
    var i = range.lowerBound
    let end = range.upperBound
    guard i >= 0, end <= bytes.count else { return false }
    while i < end {
        let b0 = bytes[i]
        if b0 < 0x80 {
            i += 1
            continue
        }
        func cont(_ k: Int) -> Bool { i + k < end && bytes[i + k] & 0xC0 == 0x80 }
        switch b0 {
        case 0xC2...0xDF:
            guard cont(1) else { return false }
            i += 2
        case 0xE0...0xEF:
            guard cont(1), cont(2) else { return false }
            let b1 = bytes[i + 1]
            if b0 == 0xE0 && b1 < 0xA0 { return false }  // overlong
            if b0 == 0xED && b1 > 0x9F { return false }  // UTF-16 surrogate
            i += 3
        case 0xF0...0xF4:
            guard cont(1), cont(2), cont(3) else { return false }
            let b1 = bytes[i + 1]
            if b0 == 0xF0 && b1 < 0x90 { return false }  // overlong
            if b0 == 0xF4 && b1 > 0x8F { return false }  // above U+10FFFF
            i += 4
        default:
            return false
        }
    }
    return true
}
