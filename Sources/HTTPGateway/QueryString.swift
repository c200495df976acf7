/// `a=1&b=two+words` as form-encoded (`+` is a space), first value of each name wins.
struct QueryString {
    private var values: [String: String] = [:]

    init(_ query: String?) {
        guard let query else { return }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = URLText.percentDecode(parts[0], plusAsSpace: true) else { continue }
            let value = parts.count > 1 ? URLText.percentDecode(parts[1], plusAsSpace: true) : ""
            if values[key] == nil, let value { values[key] = value }
        }
    }

    subscript(_ key: String) -> String? { values[key] }

    /// An integer parameter; 400 when present but not an integer in `range`.
    func int(_ key: String, default fallback: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = values[key], !text.isEmpty else { return fallback }
        guard let v = Int(text), range.contains(v) else {
            throw GatewayError(.badRequest, "?\(key) must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return v
    }

    /// A flag: present and not `0`/`false`.
    func flag(_ key: String) -> Bool {
        guard let v = values[key] else { return false }
        return v != "0" && v.lowercased() != "false"
    }
}
