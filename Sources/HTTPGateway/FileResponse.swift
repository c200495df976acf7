import HTTPTypes
import Hummingbird
import NIOCore

/// Builds the response to a GET or HEAD of a stored file: validators, conditional requests
/// (RFC 9110 §13: If-Match, If-Unmodified-Since → 412; If-None-Match, If-Modified-Since → 304),
/// `If-Range`, and ranges (one range → 206 with `Content-Range`, several →
/// `multipart/byteranges`, none satisfiable → 416). The body streams from the chunks the ranges
/// touch, with backpressure.
struct FileResponse {
    let bucket: GridFSBucket
    let file: StoredFile
    let settings: GatewaySettings
    let metrics: GatewayMetrics

    /// The response to `request` (GET or HEAD; `attachment` asks for `Content-Disposition: attachment`).
    func respond(to request: Request, attachment: Bool) -> Response {
        let isHead = request.method == .head
        var headers = validators()
        if let cache = settings.cacheControl { headers[.cacheControl] = cache }
        if let status = preconditionStatus(request.headers) {
            if status == .notModified {
                return Response(status: .notModified, headers: headers)
            }
            return GatewayResponses.error(GatewayError(status, "precondition failed"))
        }
        headers[.acceptRanges] = "bytes"
        headers[.contentDisposition] = URLText.contentDisposition(filename: file.filename ?? file.idText, attachment: attachment)
        headers[.xContentTypeOptions] = "nosniff"
        var rangeRequest = RangeRequest.whole
        if let rangeHeader = request.headers[.range], request.method == .get || isHead {
            if ifRangeAllows(request.headers[.ifRange]) {
                rangeRequest = RangeRequest.parse(rangeHeader, length: file.length)
            }
        }
        switch rangeRequest {
        case .whole:
            headers[.contentType] = file.contentType
            return stream(status: .ok, headers: headers, ranges: [ByteRange(first: 0, last: file.length - 1)],
                          length: file.length, multipart: nil, isHead: isHead)
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(file.length)"
            headers[.contentType] = "application/json"
            let body = JSONText.encode([("error", .string("range not satisfiable")), ("code", .int(416))])
            return Response(status: .rangeNotSatisfiable, headers: headers, body: isHead ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(string: body)))
        case .ranges(let ranges) where ranges.count == 1:
            headers[.contentType] = file.contentType
            headers[.contentRange] = ranges[0].contentRange(length: file.length)
            return stream(status: .partialContent, headers: headers, ranges: ranges, length: ranges[0].count,
                          multipart: nil, isHead: isHead)
        case .ranges(let ranges):
            let layout = MultipartByteranges(ranges: ranges, contentType: file.contentType, totalLength: file.length)
            headers[.contentType] = "multipart/byteranges; boundary=\(layout.boundary)"
            return stream(status: .partialContent, headers: headers, ranges: ranges, length: layout.contentLength,
                          multipart: layout, isHead: isHead)
        }
    }

    /// `ETag` and `Last-Modified`.
    func validators() -> HTTPFields {
        var headers = HTTPFields()
        headers[.eTag] = file.entityTag
        headers[.lastModified] = HTTPDate.format(secondsSince1970: file.lastModifiedSeconds)
        return headers
    }

    /// RFC 9110 §13.2.2's order: If-Match, else If-Unmodified-Since (412); If-None-Match, else
    /// If-Modified-Since (304 for GET/HEAD). Nil when the request goes ahead.
    func preconditionStatus(_ h: HTTPFields) -> HTTPResponse.Status? {
        if let ifMatch = h[values: .ifMatch].joinedList() {
            if !EntityTags.matches(ifMatch, file.entityTag, weak: false) { return .preconditionFailed }
        } else if let since = h[.ifUnmodifiedSince].flatMap(HTTPDate.parse), file.lastModifiedSeconds > since {
            return .preconditionFailed
        }
        if let ifNoneMatch = h[values: .ifNoneMatch].joinedList() {
            if EntityTags.matches(ifNoneMatch, file.entityTag, weak: true) { return .notModified }
        } else if let since = h[.ifModifiedSince].flatMap(HTTPDate.parse), file.lastModifiedSeconds <= since {
            return .notModified
        }
        return nil
    }

    /// `If-Range`: an entity tag must match strongly, a date must equal `Last-Modified`; otherwise
    /// the whole file is sent.
    func ifRangeAllows(_ value: String?) -> Bool {
        guard let value = value?.trimmingOWS(), !value.isEmpty else { return true }
        if value.hasPrefix("\"") || value.hasPrefix("W/") {
            return !value.hasPrefix("W/") && value == file.entityTag
        }
        guard let date = HTTPDate.parse(String(value)) else { return false }
        return date == file.lastModifiedSeconds
    }

    private func stream(status: HTTPResponse.Status, headers: HTTPFields, ranges: [ByteRange], length: Int64,
                        multipart: MultipartByteranges?, isHead: Bool) -> Response {
        var headers = headers
        headers[.contentLength] = "\(length)"
        guard !isHead, length > 0 else { return Response(status: status, headers: headers) }
        let bucket = bucket, file = file, metrics = metrics, batch = settings.readBatchBytes
        let body = ResponseBody(contentLength: Int(clamping: length)) { writer in
            var sent: Int64 = 0
            do {
                for (i, range) in ranges.enumerated() {
                    if let multipart {
                        let head = ByteBuffer(string: multipart.partHeader(i))
                        try await writer.write(head)
                        sent += Int64(head.readableBytes)
                    }
                    try await bucket.read(file, range: range, batchBytes: batch) { buffer in
                        let count = buffer.readableBytes
                        try await writer.write(buffer)
                        sent += Int64(count)
                        metrics.gridFSDownloaded(count)
                    }
                }
                if let multipart {
                    let tail = ByteBuffer(string: multipart.closing)
                    try await writer.write(tail)
                    sent += Int64(tail.readableBytes)
                }
                try await writer.finish(nil)
                metrics.bytesSent(sent)
            } catch {
                metrics.bytesSent(sent)
                metrics.streamAborted()
                throw error
            }
        }
        return Response(status: status, headers: headers, body: body)
    }
}

/// The layout of a `multipart/byteranges` body (RFC 9110 §14.6), computed up front so the
/// response carries an exact `Content-Length`.
struct MultipartByteranges {
    let ranges: [ByteRange]
    let contentType: String
    let totalLength: Int64
    let boundary: String

    init(ranges: [ByteRange], contentType: String, totalLength: Int64) {
        self.ranges = ranges
        self.contentType = contentType
        self.totalLength = totalLength
        var bytes: [UInt8] = []
        for _ in 0..<12 { bytes.append(UInt8.random(in: 0...255)) }
        boundary = "gridlite-" + bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    /// The delimiter and headers before part `i`.
    func partHeader(_ i: Int) -> String {
        (i == 0 ? "" : "\r\n") + "--\(boundary)\r\nContent-Type: \(contentType)\r\nContent-Range: "
            + ranges[i].contentRange(length: totalLength) + "\r\n\r\n"
    }

    /// The close delimiter.
    var closing: String { "\r\n--\(boundary)--\r\n" }

    /// Every byte of the body.
    var contentLength: Int64 {
        var total = Int64(closing.utf8.count)
        for (i, r) in ranges.enumerated() { total += Int64(partHeader(i).utf8.count) + r.count }
        return total
    }
}

/// Entity-tag lists (`If-Match`, `If-None-Match`).
enum EntityTags {
    /// Whether `list` (`*` or comma-separated tags) names `tag`; the weak comparison ignores `W/`.
    static func matches(_ list: String, _ tag: String, weak: Bool) -> Bool {
        let trimmed = list.trimmingOWS()
        if trimmed == "*" { return true }
        for item in trimmed.split(separator: ",") {
            var candidate = item.trimmingOWS()
            if candidate.hasPrefix("W/") {
                guard weak else { continue }
                candidate = candidate.dropFirst(2)
            }
            if candidate == tag { return true }
        }
        return false
    }
}

extension Array where Element == String {
    /// The values of a repeated header as one comma-separated list, or nil when absent.
    func joinedList() -> String? { isEmpty ? nil : joined(separator: ", ") }
}
