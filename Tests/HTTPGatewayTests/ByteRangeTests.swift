import Testing
@testable import HTTPGateway

@Suite struct ByteRangeTests {
    func ranges(_ header: String, _ length: Int64) -> RangeRequest { RangeRequest.parse(header, length: length) }

    @Test func singleRanges() {
        #expect(ranges("bytes=0-99", 1000) == .ranges([ByteRange(first: 0, last: 99)]))
        #expect(ranges("bytes=500-", 1000) == .ranges([ByteRange(first: 500, last: 999)]))
        #expect(ranges("bytes=900-5000", 1000) == .ranges([ByteRange(first: 900, last: 999)]))
        #expect(ranges(" Bytes = 1-1 ", 10) == .ranges([ByteRange(first: 1, last: 1)]))
    }

    @Test func suffixRangesAreTheLastBytes() {
        #expect(ranges("bytes=-100", 1000) == .ranges([ByteRange(first: 900, last: 999)]))
        #expect(ranges("bytes=-5000", 1000) == .ranges([ByteRange(first: 0, last: 999)]))
        #expect(ranges("bytes=-0", 1000) == .unsatisfiable)
        #expect(ranges("bytes=-1", 0) == .unsatisfiable)
    }

    @Test func unsatisfiableAndIgnored() {
        #expect(ranges("bytes=1000-", 1000) == .unsatisfiable)
        #expect(ranges("bytes=1000-2000, 3000-", 1000) == .unsatisfiable)
        #expect(ranges("bytes=5-1", 1000) == .whole)  // invalid: ignored
        #expect(ranges("items=0-1", 1000) == .whole)
        #expect(ranges("bytes=a-b", 1000) == .whole)
        #expect(ranges("bytes=", 1000) == .whole)
        #expect(ranges("bytes=0-1,1000-", 1000) == .ranges([ByteRange(first: 0, last: 1)]))
        #expect(ranges("bytes=99999999999999999999999-", 1000) == .unsatisfiable)
        #expect(ranges("bytes=0-99999999999999999999999", 1000) == .ranges([ByteRange(first: 0, last: 999)]))
    }

    @Test func multipleRangesKeepOrderUnlessTheyOverlap() {
        #expect(ranges("bytes=500-599,0-9", 1000) == .ranges([ByteRange(first: 500, last: 599), ByteRange(first: 0, last: 9)]))
        #expect(ranges("bytes=0-10,5-20,-10", 1000) == .ranges([ByteRange(first: 0, last: 20), ByteRange(first: 990, last: 999)]))
        let many = "bytes=" + (0..<101).map { "\($0 * 2)-\($0 * 2)" }.joined(separator: ",")
        #expect(ranges(many, 1000) == .whole)
    }

    @Test func httpDates() {
        #expect(HTTPDate.format(secondsSince1970: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == 784_111_777)
        #expect(HTTPDate.parse("yesterday") == nil)
        #expect(HTTPDate.format(secondsSince1970: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.iso8601(millisecondsSince1970: 1_700_000_000_123) == "2023-11-14T22:13:20.123Z")
    }

    @Test func entityTagLists() {
        #expect(EntityTags.matches("\"a\", \"b\"", "\"b\"", weak: true))
        #expect(EntityTags.matches("W/\"b\"", "\"b\"", weak: true))
        #expect(!EntityTags.matches("W/\"b\"", "\"b\"", weak: false))
        #expect(EntityTags.matches("*", "\"x\"", weak: false))
    }

    @Test func contentDisposition() {
        #expect(URLText.contentDisposition(filename: "report.pdf", attachment: false)
            == "inline; filename=\"report.pdf\"; filename*=UTF-8''report.pdf")
        #expect(URLText.contentDisposition(filename: "dir/résumé \"x\".txt", attachment: true)
            == "attachment; filename=\"r_sum_ _x_.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22x%22.txt")
        #expect(URLText.percentDecode("a%2Fb%C3%A9") == "a/bé")
        #expect(URLText.percentDecode("%zz") == nil)
        #expect(URLText.percentDecode("%FF") == nil)
    }

    @Test func routes() {
        #expect(GatewayRoute(path: "/") == .root)
        #expect(GatewayRoute(path: "/test/") == .database("test"))
        #expect(GatewayRoute(path: "/test") == .addSlash("/test/"))
        #expect(GatewayRoute(path: "/test/fs/") == .bucket("test", "fs"))
        #expect(GatewayRoute(path: "/test/fs/name/a/b%20c.txt") == .fileByName("test", "fs", "a/b c.txt"))
        #expect(GatewayRoute(path: "/test/fs/id/0123456789abcdef01234567") == .fileById("test", "fs", "0123456789abcdef01234567"))
        #expect(GatewayRoute(path: "/test/fs/other/x") == .notFound)
        #expect(GatewayRoute(path: "/favicon.ico") == .notFound)
        if case .badPath = GatewayRoute(path: "/test/fs/name/%G0") {} else { Issue.record("bad escape accepted") }
    }

    @Test func basicCredentials() {
        let parsed = BasicCredentials.parse("Basic dXNlcjpwYTpzcw==")
        #expect(parsed?.user == "user")
        #expect(parsed?.password == "pa:ss")
        #expect(BasicCredentials.parse("Bearer xyz") == nil)
        #expect(BasicCredentials.parse("Basic ###") == nil)
    }
}
