/// HTTP dates (RFC 9110 §5.6.7): IMF-fixdate out, IMF-fixdate (and RFC 850 / asctime, which
/// recipients must accept) in. No Foundation formatters, so no locale or thread concerns.
public enum HTTPDate {
    private static let dayNames = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
    private static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Sun, 06 Nov 1994 08:49:37 GMT` for whole seconds since the Unix epoch.
    public static func format(secondsSince1970 seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (y, m, d) = civil(fromDays: days)
        let weekday = Int(((days % 7) + 7) % 7)
        return "\(dayNames[weekday]), \(pad(d)) \(monthNames[m - 1]) \(y) "
            + "\(pad(Int(secondOfDay / 3600))):\(pad(Int(secondOfDay / 60 % 60))):\(pad(Int(secondOfDay % 60))) GMT"
    }

    /// Seconds since the Unix epoch of an HTTP date, or nil when it is not one.
    public static func parse(_ text: String) -> Int64? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        var day: Int?, month: Int?, year: Int?, time: Substring?
        if parts.count == 6, parts[5] == "GMT" {  // Sun, 06 Nov 1994 08:49:37 GMT
            day = Int(parts[1]); month = monthIndex(parts[2]); year = Int(parts[3]); time = parts[4]
        } else if parts.count == 4, parts[3] == "GMT" {  // Sunday, 06-Nov-94 08:49:37 GMT
            let dmy = parts[1].split(separator: "-")
            guard dmy.count == 3, let yy = Int(dmy[2]) else { return nil }
            day = Int(dmy[0]); month = monthIndex(dmy[1]); year = yy < 70 ? 2000 + yy : (yy < 100 ? 1900 + yy : yy)
            time = parts[2]
        } else if parts.count == 5 {  // Sun Nov  6 08:49:37 1994
            month = monthIndex(parts[1]); day = Int(parts[2]); time = parts[3]; year = Int(parts[4])
        }
        guard let d = day, let m = month, let y = year, let t = time,
              (1...31).contains(d), (1...9999).contains(y) else { return nil }
        let hms = t.split(separator: ":")
        guard hms.count == 3, let h = Int(hms[0]), let mi = Int(hms[1]), let s = Int(hms[2]),
              (0...23).contains(h), (0...59).contains(mi), (0...60).contains(s) else { return nil }
        return days(fromCivil: y, m, d) * 86_400 + Int64(h * 3600 + mi * 60 + s)
    }

    private static func monthIndex(_ name: Substring) -> Int? {
        monthNames.firstIndex(of: String(name)).map { $0 + 1 }
    }

    private static func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm).
    static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64(month > 2 ? month - 3 : month + 9)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The date of a day count since 1970-01-01.
    static func civil(fromDays days: Int64) -> (Int64, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// `2024-05-01T12:00:00Z`, for listings.
    public static func iso8601(millisecondsSince1970 ms: Int64) -> String {
        let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let sod = seconds - days * 86_400
        let (y, m, d) = civil(fromDays: days)
        let millis = Int(ms - seconds * 1000)
        let frac = millis == 0 ? "" : "." + String(String(millis + 1000).dropFirst())
        return "\(y)-\(pad(m))-\(pad(d))T\(pad(Int(sod / 3600))):\(pad(Int(sod / 60 % 60))):\(pad(Int(sod % 60)))\(frac)Z"
    }
}
