/// Content types for stored files: the files document's `contentType` or `metadata.contentType`,
/// else a guess from the filename's extension, else `application/octet-stream`.
public enum MediaTypes {
    /// The fallback when nothing better is known.
    public static let binary = "application/octet-stream"

    /// Common extensions (lowercase) and their types.
    static let byExtension: [String: String] = [
        "txt": "text/plain; charset=utf-8", "log": "text/plain; charset=utf-8", "md": "text/markdown; charset=utf-8",
        "csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8", "htm": "text/html; charset=utf-8",
        "css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8", "mjs": "text/javascript; charset=utf-8",
        "json": "application/json", "xml": "application/xml", "pdf": "application/pdf",
        "zip": "application/zip", "gz": "application/gzip", "tgz": "application/gzip", "tar": "application/x-tar",
        "bz2": "application/x-bzip2", "xz": "application/x-xz", "zst": "application/zstd", "7z": "application/x-7z-compressed",
        "wasm": "application/wasm", "bin": binary,
        "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
        "svg": "image/svg+xml", "ico": "image/vnd.microsoft.icon", "bmp": "image/bmp", "avif": "image/avif",
        "tif": "image/tiff", "tiff": "image/tiff",
        "mp4": "video/mp4", "m4v": "video/mp4", "webm": "video/webm", "mkv": "video/x-matroska", "mov": "video/quicktime",
        "ogv": "video/ogg", "avi": "video/x-msvideo",
        "mp3": "audio/mpeg", "m4a": "audio/mp4", "ogg": "audio/ogg", "oga": "audio/ogg", "opus": "audio/ogg",
        "wav": "audio/wav", "flac": "audio/flac", "aac": "audio/aac",
        "woff": "font/woff", "woff2": "font/woff2", "ttf": "font/ttf", "otf": "font/otf",
        "doc": "application/msword", "xls": "application/vnd.ms-excel",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ]

    /// The type guessed from a filename's extension, or nil.
    public static func guess(filename: String) -> String? {
        guard let dot = filename.lastIndex(of: "."), dot != filename.startIndex else { return nil }
        let ext = filename[filename.index(after: dot)...].lowercased()
        guard !ext.contains("/") else { return nil }
        return byExtension[ext]
    }

    /// Whether a type is safe to put in a header (visible ASCII and spaces, no line breaks).
    static func isHeaderSafe(_ value: String) -> Bool {
        !value.isEmpty && value.utf8.count <= 256 && value.utf8.allSatisfy { $0 == 0x20 || $0 == 0x09 || (0x21...0x7E).contains($0) }
    }

    /// The broad kind a browser can preview inline, if any: image, video, audio or pdf.
    public static func previewKind(_ contentType: String) -> String? {
        let t = contentType.lowercased()
        if t.hasPrefix("image/") { return "image" }
        if t.hasPrefix("video/") { return "video" }
        if t.hasPrefix("audio/") { return "audio" }
        if t.hasPrefix("application/pdf") { return "pdf" }
        return nil
    }
}

/// Percent-encoding and `Content-Disposition` (RFC 6266 with RFC 8187's `filename*`).
public enum URLText {
    /// Unreserved characters (RFC 3986) pass; everything else is `%XX` of its UTF-8 bytes.
    public static func percentEncode(_ text: String, keepSlash: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2D, 0x2E, 0x5F, 0x7E:
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case 0x2F where keepSlash:
                out.append("/")
            default:
                out.append("%")
                out.append(hexDigit(byte >> 4))
                out.append(hexDigit(byte & 0xF))
            }
        }
        return out
    }

    private static func hexDigit(_ v: UInt8) -> Character {
        Character(Unicode.Scalar(v < 10 ? 0x30 + v : 0x41 + v - 10))
    }

    /// Decodes `%XX` escapes (and `+` as space when `plusAsSpace`); nil for a malformed escape or
    /// bytes that are not UTF-8.
    public static func percentDecode(_ text: Substring, plusAsSpace: Bool = false) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var it = text.utf8.makeIterator()
        while let b = it.next() {
            if b == 0x25 {
                guard let h = it.next(), let l = it.next(), let hv = hexValue(h), let lv = hexValue(l) else { return nil }
                bytes.append(hv << 4 | lv)
            } else if b == 0x2B && plusAsSpace {
                bytes.append(0x20)
            } else {
                bytes.append(b)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }

    /// `inline; filename="report.pdf"; filename*=UTF-8''r%C3%A9port.pdf` (or `attachment`): an
    /// ASCII fallback for old clients, and the exact name in `filename*` for everyone else.
    public static func contentDisposition(filename: String, attachment: Bool) -> String {
        let base = filename.split(separator: "/").last.map(String.init) ?? filename
        var fallback = ""
        for scalar in base.unicodeScalars {
            if scalar.isASCII, scalar.value >= 0x20, scalar.value < 0x7F, scalar != "\"", scalar != "\\" {
                fallback.unicodeScalars.append(scalar)
            } else {
                fallback.append("_")
            }
        }
        let kind = attachment ? "attachment" : "inline"
        if base.isEmpty { return kind }
        return "\(kind); filename=\"\(fallback)\"; filename*=UTF-8''\(percentEncode(base))"
    }
}
