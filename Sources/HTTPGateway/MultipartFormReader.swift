/// A streaming `multipart/form-data` reader (RFC 7578): bytes go in as they arrive, events come
/// out, and it holds at most one delimiter's worth of undelivered body bytes (plus a part's
/// headers, capped at 16 KiB), so a multi-gigabyte form upload streams in bounded memory.
struct MultipartFormReader {
    /// A part's headers, as far as the gateway needs them.
    struct Part: Equatable {
        var name: String?
        var filename: String?
        var contentType: String?
    }

    enum Event: Equatable {
        case partStart(Part)
        case data([UInt8])
        case partEnd
    }

    private enum State { case preamble, afterDelimiter, headers, body, epilogue }

    private let delimiter: [UInt8]  // CRLF "--" boundary
    private var buffer: [UInt8] = [0x0D, 0x0A]  // so a delimiter at the very start is found like any other
    private var state = State.preamble
    /// True once the close delimiter has been read.
    private(set) var isComplete = false

    static let maxHeaderBytes = 16 * 1024

    init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
    }

    /// The `boundary` parameter of a `multipart/form-data` content type.
    static func boundary(fromContentType value: String) -> String? {
        let parts = value.split(separator: ";")
        guard let first = parts.first, first.trimmingOWS().lowercased() == "multipart/form-data" else { return nil }
        for p in parts.dropFirst() {
            let kv = p.trimmingOWS().split(separator: "=", maxSplits: 1)
            guard kv.count == 2, kv[0].lowercased() == "boundary" else { continue }
            var b = kv[1].trimmingOWS()
            if b.hasPrefix("\""), b.hasSuffix("\""), b.count >= 2 { b = b.dropFirst().dropLast() }
            guard (1...70).contains(b.utf8.count) else { return nil }
            return String(b)
        }
        return nil
    }

    /// Feeds bytes; returns what they completed.
    mutating func feed(_ bytes: some Collection<UInt8>) throws -> [Event] {
        buffer.append(contentsOf: bytes)
        var events: [Event] = []
        var position = 0
        loop: while true {
            switch state {
            case .preamble, .body:
                if let at = find(delimiter, in: buffer, from: position) {
                    if state == .body {
                        if at > position { events.append(.data(Array(buffer[position..<at]))) }
                        events.append(.partEnd)
                    }
                    position = at + delimiter.count
                    state = .afterDelimiter
                } else {
                    // Keep what could be the start of a delimiter.
                    let safe = max(position, buffer.count - (delimiter.count - 1))
                    if state == .body, safe > position { events.append(.data(Array(buffer[position..<safe]))) }
                    position = safe
                    break loop
                }
            case .afterDelimiter:
                guard buffer.count - position >= 2 else { break loop }
                if buffer[position] == 0x2D && buffer[position + 1] == 0x2D {  // "--": the close delimiter
                    state = .epilogue
                    isComplete = true
                    position = buffer.count
                    break loop
                }
                // Transport padding (spaces, tabs) then CRLF.
                var p = position
                while p < buffer.count, buffer[p] == 0x20 || buffer[p] == 0x09 { p += 1 }
                guard p + 1 < buffer.count else { break loop }
                guard buffer[p] == 0x0D, buffer[p + 1] == 0x0A else { throw GatewayError(.badRequest, "malformed multipart delimiter") }
                position = p + 2
                state = .headers
            case .headers:
                guard let end = find([0x0D, 0x0A, 0x0D, 0x0A], in: buffer, from: position) else {
                    if buffer.count - position > Self.maxHeaderBytes { throw GatewayError(.badRequest, "multipart part headers too large") }
                    // Headers may be empty: the blank line right away.
                    if buffer.count - position >= 2, buffer[position] == 0x0D, buffer[position + 1] == 0x0A {
                        position += 2
                        events.append(.partStart(Part()))
                        state = .body
                        continue loop
                    }
                    break loop
                }
                if buffer.count - position >= 2, buffer[position] == 0x0D, buffer[position + 1] == 0x0A {
                    position += 2
                    events.append(.partStart(Part()))
                    state = .body
                    continue loop
                }
                guard let text = String(validating: buffer[position..<end], as: UTF8.self) else {
                    throw GatewayError(.badRequest, "multipart part headers are not UTF-8")
                }
                events.append(.partStart(Self.parseHeaders(text)))
                position = end + 4
                state = .body
            case .epilogue:
                position = buffer.count
                break loop
            }
        }
        buffer.removeFirst(position)
        return events
    }

    /// `Content-Disposition: form-data; name="file"; filename="a.txt"` and `Content-Type`.
    static func parseHeaders(_ text: String) -> Part {
        var part = Part()
        for line in text.split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingOWS().lowercased()
            let value = line[line.index(after: colon)...].trimmingOWS()
            if name == "content-type" {
                part.contentType = String(value)
            } else if name == "content-disposition" {
                let params = dispositionParameters(value)
                part.name = params["name"]
                part.filename = params["filename*"] ?? params["filename"]
            }
        }
        return part
    }

    /// Parameters of a disposition value; quoted strings may contain `;` and `\"`; `filename*`
    /// in RFC 8187 form (`UTF-8''%E2%82%AC`) is decoded.
    static func dispositionParameters(_ value: Substring) -> [String: String] {
        var result: [String: String] = [:]
        var chars = Array(value.unicodeScalars)[...]
        // skip the disposition type
        while let c = chars.first, c != ";" { chars = chars.dropFirst() }
        while !chars.isEmpty {
            chars = chars.dropFirst()  // ';'
            while let c = chars.first, c == " " || c == "\t" { chars = chars.dropFirst() }
            var key = ""
            while let c = chars.first, c != "=", c != ";" { key.unicodeScalars.append(c); chars = chars.dropFirst() }
            key = String(key.trimmingOWS()).lowercased()
            var val = ""
            if chars.first == "=" {
                chars = chars.dropFirst()
                if chars.first == "\"" {
                    chars = chars.dropFirst()
                    while let c = chars.first, c != "\"" {
                        chars = chars.dropFirst()
                        if c == "\\", let next = chars.first { val.unicodeScalars.append(next); chars = chars.dropFirst() } else { val.unicodeScalars.append(c) }
                    }
                    chars = chars.dropFirst()
                    while let c = chars.first, c != ";" { chars = chars.dropFirst() }
                } else {
                    while let c = chars.first, c != ";" { val.unicodeScalars.append(c); chars = chars.dropFirst() }
                    val = String(val.trimmingOWS())
                }
            }
            if key == "filename*" {
                let pieces = val.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
                if pieces.count == 3, pieces[0].lowercased() == "utf-8", let decoded = URLText.percentDecode(pieces[2]) {
                    result[key] = decoded
                }
            } else if !key.isEmpty {
                result[key] = val
            }
        }
        return result
    }

    /// The first index of `needle` in `haystack` at or after `from`.
    private func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard let first = needle.first, haystack.count - from >= needle.count else { return nil }
        var i = from
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first {
                var j = 1
                while j < needle.count, haystack[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}
