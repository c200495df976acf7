import Testing
@testable import HTTPGateway

@Suite struct MultipartFormReaderTests {
    static let body = Array((
        "preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n"
        + "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r\u{e9}sum\u{e9}.txt\"\r\n"
        + "Content-Type: text/plain\r\n\r\nline one\r\n--XyYnot a delimiter\r\nend\r\n--XyZ--\r\nepilogue").utf8)

    /// Feeds the body in pieces of `step` bytes and collects the events.
    func run(step: Int) throws -> [MultipartFormReader.Event] {
        var reader = MultipartFormReader(boundary: "XyZ")
        var events: [MultipartFormReader.Event] = []
        var i = 0
        while i < Self.body.count {
            events += try reader.feed(Self.body[i..<min(i + step, Self.body.count)])
            i += step
        }
        #expect(reader.isComplete)
        return events
    }

    /// Joins adjacent data events so results from different piece sizes compare equal.
    func merged(_ events: [MultipartFormReader.Event]) -> [MultipartFormReader.Event] {
        var out: [MultipartFormReader.Event] = []
        for e in events {
            if case .data(let b) = e, case .data(let a)? = out.last {
                out[out.count - 1] = .data(a + b)
            } else if case .data(let b) = e, b.isEmpty {
                continue
            } else {
                out.append(e)
            }
        }
        return out
    }

    @Test func partsAtEveryPieceSize() throws {
        let expected: [MultipartFormReader.Event] = [
            .partStart(.init(name: "note", filename: nil, contentType: nil)), .data(Array("hello".utf8)), .partEnd,
            .partStart(.init(name: "file", filename: "r\u{e9}sum\u{e9}.txt", contentType: "text/plain")),
            .data(Array("line one\r\n--XyYnot a delimiter\r\nend".utf8)), .partEnd,
        ]
        for step in [1, 2, 3, 5, 7, 16, 64, 1000] {
            #expect(merged(try run(step: step)) == expected, "piece size \(step)")
        }
    }

    @Test func boundaryFromContentType() {
        #expect(MultipartFormReader.boundary(fromContentType: "multipart/form-data; boundary=abc") == "abc")
        #expect(MultipartFormReader.boundary(fromContentType: "multipart/form-data; boundary=\"a b\"") == "a b")
        #expect(MultipartFormReader.boundary(fromContentType: "text/plain; boundary=abc") == nil)
    }

    @Test func encodedFilenameWins() {
        let part = MultipartFormReader.parseHeaders(
            "Content-Disposition: form-data; name=\"f\"; filename=\"x.txt\"; filename*=UTF-8''%E2%82%AC.txt")
        #expect(part.filename == "\u{20ac}.txt")
    }
}
