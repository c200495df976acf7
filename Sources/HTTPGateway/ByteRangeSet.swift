/// One satisfiable byte range of a representation: `first...last`, both inclusive, already
/// clamped to the representation's length.
public struct ByteRange: Sendable, Hashable {
    /// The first byte's offset.
    public var first: Int64
    /// The last byte's offset (inclusive).
    public var last: Int64

    /// Creates a range; `first <= last`.
    public init(first: Int64, last: Int64) {
        self.first = first
        self.last = last
    }

    /// How many bytes it covers.
    public var count: Int64 { last - first + 1 }

    /// `bytes a-b/len`, the value of `Content-Range` for this range.
    public func contentRange(length: Int64) -> String { "bytes \(first)-\(last)/\(length)" }
}

/// What a `Range` header asks of a representation of a known length (RFC 9110 §14).
public enum RangeRequest: Sendable, Equatable {
    /// No usable `Range` header (absent, another unit, or syntactically invalid): send the whole
    /// representation with 200, as RFC 9110 §14.2 lets a server ignore such a header.
    case whole
    /// One or more satisfiable ranges, in the order asked (overlapping ones coalesced).
    case ranges([ByteRange])
    /// Well-formed, but no range overlaps the representation: 416 with `Content-Range: bytes */len`.
    case unsatisfiable

    /// The most ranges a request may name before the header is ignored (a defence against
    /// requests that make a small file expensive, as RFC 9110 §14.2 allows).
    public static let maximumRangeCount = 100

    /// Reads a `Range` header value against a representation of `length` bytes.
    ///
    /// `bytes=a-b` (b clamped to the last byte), `bytes=a-` (to the end), `bytes=-n` (the last n
    /// bytes, all of them when n exceeds the length), several separated by commas. A range whose
    /// first byte is at or past the end, or a zero suffix, is unsatisfiable and dropped; when none
    /// remains the answer is ``unsatisfiable``. Overlapping or adjacent ranges are merged.
    public static func parse(_ header: String, length: Int64) -> RangeRequest {
        let trimmed = header.trimmingOWS()
        guard let eq = trimmed.firstIndex(of: "=") else { return .whole }
        guard trimmed[..<eq].trimmingOWS().lowercased() == "bytes" else { return .whole }
        let specs = trimmed[trimmed.index(after: eq)...].split(separator: ",", omittingEmptySubsequences: false)
        var ranges: [ByteRange] = []
        var sawSpec = false
        for rawSpec in specs {
            let spec = rawSpec.trimmingOWS()
            if spec.isEmpty { continue }  // RFC 9110's list rule allows empty elements
            sawSpec = true
            guard let dash = spec.firstIndex(of: "-") else { return .whole }
            let firstText = spec[..<dash]
            let lastText = spec[spec.index(after: dash)...]
            if firstText.isEmpty {
                // suffix-range: the last n bytes.
                guard let suffix = parseDigits(lastText) else { return .whole }
                if suffix == 0 || length == 0 { continue }
                let first = suffix >= length ? 0 : length - suffix
                ranges.append(ByteRange(first: first, last: length - 1))
            } else {
                guard let first = parseDigits(firstText) else { return .whole }
                var last = Int64.max
                if !lastText.isEmpty {
                    guard let parsed = parseDigits(lastText) else { return .whole }
                    guard parsed >= first else { return .whole }  // an invalid int-range: ignore the header
                    last = parsed
                }
                if first >= length { continue }
                ranges.append(ByteRange(first: first, last: min(last, length - 1)))
            }
            if ranges.count > maximumRangeCount { return .whole }
        }
        guard sawSpec else { return .whole }
        guard !ranges.isEmpty else { return .unsatisfiable }
        return .ranges(coalesced(ranges))
    }

    /// Merges overlapping or adjacent ranges (RFC 9110 §14.1.1 lets a server do so); when nothing
    /// overlaps the client's order is kept.
    static func coalesced(_ ranges: [ByteRange]) -> [ByteRange] {
        guard ranges.count > 1 else { return ranges }
        let sorted = ranges.sorted { $0.first < $1.first }
        var merged: [ByteRange] = []
        var overlapped = false
        for r in sorted {
            if var lastRange = merged.last, r.first <= lastRange.last &+ 1 {
                overlapped = true
                lastRange.last = max(lastRange.last, r.last)
                merged[merged.count - 1] = lastRange
            } else {
                merged.append(r)
            }
        }
        return overlapped ? merged : ranges
    }

    /// 1*DIGIT as a non-negative number, saturating at `Int64.max`; nil for anything else.
    static func parseDigits(_ text: Substring) -> Int64? {
        guard !text.isEmpty else { return nil }
        var value: Int64 = 0
        for byte in text.utf8 {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (plus, o2) = times.addingReportingOverflow(Int64(byte - 0x30))
            if o1 || o2 { value = Int64.max } else { value = plus }
        }
        return value
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (HTTP's OWS).
    func trimmingOWS() -> Substring {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" { s = s.dropLast() }
        return s
    }
}
