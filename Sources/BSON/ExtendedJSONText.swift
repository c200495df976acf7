// Text forms used by extended JSON: base64, ISO-8601 dates, UUIDs, hex and integer strings.

/// Standard base64 with padding.
func base64Encode(_ data: [UInt8]) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out = [UInt8]()
    out.reserveCapacity((data.count + 2) / 3 * 4)
    var i = 0
    while i + 3 <= data.count {
        let n = UInt32(data[i]) << 16 | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2])
        for shift in [18, 12, 6, 0] { out.append(alphabet[Int((n >> UInt32(shift)) & 63)]) }
        i += 3
    }
    let rest = data.count - i
    if rest > 0 {
        let n = UInt32(data[i]) << 16 | (rest == 2 ? UInt32(data[i + 1]) << 8 : 0)
        out.append(alphabet[Int((n >> 18) & 63)])
        out.append(alphabet[Int((n >> 12) & 63)])
        out.append(rest == 2 ? alphabet[Int((n >> 6) & 63)] : UInt8(ascii: "="))
        out.append(UInt8(ascii: "="))
    }
    return String(decoding: out, as: UTF8.self)
}

/// Decodes padded standard base64; nil for anything else.
func base64Decode(_ text: String) -> [UInt8]? {
    let chars = Array(text.utf8)
    guard chars.count % 4 == 0 else { return nil }
    func sextet(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return UInt32(c - UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return UInt32(c - UInt8(ascii: "a") + 26)
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0") + 52)
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }
    var out = [UInt8]()
    out.reserveCapacity(chars.count / 4 * 3)
    var i = 0
    while i < chars.count {
        let last = i + 4 == chars.count
        let pad = last ? (chars[i + 3] == UInt8(ascii: "=") ? (chars[i + 2] == UInt8(ascii: "=") ? 2 : 1) : 0) : 0
        var n: UInt32 = 0
        for k in 0..<(4 - pad) {
            guard let v = sextet(chars[i + k]) else { return nil }
            n = n << 6 | v
        }
        n <<= UInt32(6 * pad)
        out.append(UInt8(truncatingIfNeeded: n >> 16))
        if pad < 2 { out.append(UInt8(truncatingIfNeeded: n >> 8)) }
        if pad < 1 { out.append(UInt8(truncatingIfNeeded: n)) }
        i += 4
    }
    return out
}

/// `YYYY-MM-DDTHH:MM:SS[.mmm]Z` for milliseconds since the epoch (years 0…9999).
func isoDate(milliseconds ms: Int64) -> String {
    let dayMs: Int64 = 86_400_000
    var days = ms / dayMs
    var rem = ms % dayMs
    if rem < 0 { rem += dayMs; days -= 1 }
    let (y, m, d) = civilDate(fromDays: days)
    func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    var text = "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(rem / 3_600_000, 2)):\(pad(rem / 60_000 % 60, 2)):\(pad(rem / 1000 % 60, 2))"
    if rem % 1000 != 0 { text += "." + pad(rem % 1000, 3) }
    return text + "Z"
}

/// Proleptic Gregorian (year, month, day) for days since 1970-01-01.
func civilDate(fromDays z0: Int64) -> (Int64, Int64, Int64) {
    let z = z0 + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
}

/// Days since 1970-01-01 for a proleptic Gregorian date.
func days(fromCivilYear y0: Int64, month m: Int64, day d: Int64) -> Int64 {
    let y = m <= 2 ? y0 - 1 : y0
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
}

/// An optional minus sign and at least one decimal digit, nothing else.
func isIntegerText(_ s: String) -> Bool {
    var digits = Substring(s).utf8
    if digits.first == UInt8(ascii: "-") { digits = digits.dropFirst() }
    return !digits.isEmpty && digits.allSatisfy { (0x30...0x39).contains($0) }
}

/// The 16 bytes of a UUID written as 8-4-4-4-12 hex digits.
func uuidBytes(_ s: String) -> [UInt8]? {
    let chars = Array(s.utf8)
    guard chars.count == 36 else { return nil }
    var hex = [UInt8]()
    for (i, c) in chars.enumerated() {
        if [8, 13, 18, 23].contains(i) {
            guard c == UInt8(ascii: "-") else { return nil }
        } else {
            hex.append(c)
        }
    }
    return hexBytes(hex)
}


/// Milliseconds since the epoch for `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM|±HHMM)`.
func parseISODate(_ s: String) -> Int64? {
    let c = Array(s.utf8)
    var i = 0
    func num(_ width: Int) -> Int64? {
        guard i + width <= c.count else { return nil }
        var v: Int64 = 0
        for k in 0..<width {
            let d = c[i + k]
            guard (0x30...0x39).contains(d) else { return nil }
            v = v * 10 + Int64(d - 0x30)
        }
        i += width
        return v
    }
    func lit(_ ch: Character) -> Bool {
        guard i < c.count, let a = ch.asciiValue, c[i] == a else { return false }
        i += 1
        return true
    }
    guard let y = num(4), lit("-"), let mo = num(2), lit("-"), let d = num(2), lit("T"),
          let h = num(2), lit(":"), let mi = num(2), lit(":"), let sec = num(2),
          (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, sec < 61
    else { return nil }
    var ms: Int64 = 0
    if lit(".") {
        var scale: Int64 = 100
        let start = i
        while i < c.count, (0x30...0x39).contains(c[i]) {
            ms += Int64(c[i] - 0x30) * scale
            scale /= 10
            i += 1
        }
        guard i > start else { return nil }
    }
    var offsetMinutes: Int64 = 0
    if lit("Z") {
    } else if i < c.count, c[i] == UInt8(ascii: "+") || c[i] == UInt8(ascii: "-") {
        let sign: Int64 = c[i] == UInt8(ascii: "-") ? -1 : 1
        i += 1
        guard let oh = num(2) else { return nil }
        _ = lit(":")
        guard let om = num(2) else { return nil }
        offsetMinutes = sign * (oh * 60 + om)
    } else {
        return nil
    }
    guard i == c.count else { return nil }
    let dayCount = days(fromCivilYear: y, month: mo, day: d)
    return ((dayCount * 24 + h) * 60 + mi - offsetMinutes) * 60_000 + sec * 1000 + ms
}
