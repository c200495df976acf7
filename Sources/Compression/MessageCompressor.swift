/// A compressor of the OP_COMPRESSED specification, with its wire id and its handshake name.
public enum MessageCompressor: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Id 0: the body is stored as is (for tests and debugging; never in the default list).
    case noop = 0
    /// Id 1: snappy's raw block format (what python-snappy's `compress` and libmongoc write).
    case snappy = 1
    /// Id 2: zlib-wrapped deflate (RFC 1950), not raw deflate and not gzip.
    case zlib = 2
    /// Id 3: a zstd frame; drivers write the content size in the frame header (one-shot API).
    case zstd = 3

    /// mongod's default `--networkMessageCompressors`: `snappy,zstd,zlib`.
    public static let defaultList: [MessageCompressor] = [.snappy, .zstd, .zlib]

    /// The name used in `hello {compression: [...]}` and on the command line.
    public var name: String {
        switch self {
        case .noop: "noop"
        case .snappy: "snappy"
        case .zlib: "zlib"
        case .zstd: "zstd"
        }
    }

    /// The compressor called `name` (exact, lower case as drivers send it), if any.
    public init?(name: String) {
        guard let match = MessageCompressor.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    /// The name.
    public var description: String { name }

    /// Parses a `--networkMessageCompressors` value: a comma-separated list of names, or
    /// `disabled` (also the empty string) for none. Duplicates are dropped, order is kept.
    /// Throws the first unknown name.
    public static func parseList(_ text: String) throws(UnknownCompressorName) -> [MessageCompressor] {
        let list = trimmed(text)
        if list.isEmpty || list == "disabled" { return [] }
        var compressors: [MessageCompressor] = []
        for part in list.split(separator: ",", omittingEmptySubsequences: false) {
            let name = trimmed(part)
            guard let compressor = MessageCompressor(name: name) else { throw UnknownCompressorName(name: name) }
            if !compressors.contains(compressor) { compressors.append(compressor) }
        }
        return compressors
    }
}

/// A `--networkMessageCompressors` entry that names no known compressor.
public struct UnknownCompressorName: Error, Sendable, Hashable, CustomStringConvertible {
    /// The name as given.
    public let name: String

    /// Describes the problem as mongod does when it rejects the option.
    public var description: String { "Invalid network message compressor specified in configuration: \(name)" }
}

/// `text` without leading and trailing spaces or tabs (the module does without Foundation).
private func trimmed(_ text: some StringProtocol) -> String {
    var view = Substring(text)
    while let first = view.first, first == " " || first == "\t" { view.removeFirst() }
    while let last = view.last, last == " " || last == "\t" { view.removeLast() }
    return String(view)
}
