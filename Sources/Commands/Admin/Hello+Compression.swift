import BSON

extension HelloCommand {
    /// The compressors a `hello` agrees on: the names in the client's `compression` array that
    /// this server offers, in the client's order (mongod walks the client's list), each once.
    /// No common compressor, no array, or compression disabled → empty (the reply then has no
    /// `compression` field). Entries that are not strings are skipped, never an error: the
    /// handshake must not fail over an option the client can live without.
    public static func negotiateCompression(_ requested: BSONValue?, offered: [String]) -> [String] {
        guard case .array(let names)? = requested, !offered.isEmpty else { return [] }
        var agreed: [String] = []
        for case .string(let name) in names where offered.contains(name) && !agreed.contains(name) {
            agreed.append(name)
        }
        return agreed
    }
}
