import BSON
import CPCRE2

/// A PCRE2 pattern compiled once (UTF mode) and freed when the last reference goes away.
///
/// Compiled PCRE2 code is read-only after compilation, so one instance may be used from several
/// threads at once; each match allocates its own match data.
public final class CompiledRegex: @unchecked Sendable {
    /// The pattern as given.
    public let pattern: String
    /// The option letters as given (a subset of `imsx`, possibly also `u`).
    public let options: String
    private let code: OpaquePointer

    /// Compiles `pattern` with MongoDB option letters: `i` caseless, `m` multiline, `s` dot-all,
    /// `x` extended, `u` (accepted, UTF is always on). Throws BadValue for other letters or a
    /// pattern PCRE2 rejects.
    public init(pattern: String, options: String) throws {
        var flags: UInt32 = UInt32(PCRE2_UTF)
        for c in options {
            switch c {
            case "i": flags |= UInt32(PCRE2_CASELESS)
            case "m": flags |= UInt32(PCRE2_MULTILINE)
            case "s": flags |= UInt32(PCRE2_DOTALL)
            case "x": flags |= UInt32(PCRE2_EXTENDED)
            case "u": break
            default: throw QueryError.location(51108, "invalid flag in regex options: \(c)")
            }
        }
        if pattern.utf8.contains(0) {
            throw QueryError.location(51109, "Regular expression cannot contain an embedded null byte")
        }
        var errorCode: Int32 = 0
        var errorOffset: Int = 0
        let compiled: OpaquePointer? = pattern.withCString { p in
            p.withMemoryRebound(to: UInt8.self, capacity: pattern.utf8.count + 1) { up in
                pcre2_compile_8(up, pattern.utf8.count, flags, &errorCode, &errorOffset, nil)
            }
        }
        guard let compiled else {
            var buf = [UInt8](repeating: 0, count: 256)
            let n = pcre2_get_error_message_8(errorCode, &buf, buf.count)
            let text = n > 0 ? String(decoding: buf.prefix(Int(n)), as: UTF8.self) : "error \(errorCode)"
            throw QueryError.location(51091, "Regular expression is invalid: \(text)")
        }
        _ = pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE))
        self.code = compiled
        self.pattern = pattern
        self.options = options
    }

    deinit {
        pcre2_code_free_8(code)
    }

    /// True when the pattern matches somewhere in `subject`.
    public func matches(_ subject: String) -> Bool {
        guard let md = pcre2_match_data_create_from_pattern_8(code, nil) else { return false }
        defer { pcre2_match_data_free_8(md) }
        var s = subject
        let rc = s.withUTF8 { buf in
            pcre2_match_8(code, buf.baseAddress, buf.count, 0, 0, md, nil)
        }
        return rc >= 0
    }

    /// True when this regex matches `value` the way a query does: strings and symbols by
    /// matching, regex values by identical pattern and options.
    public func matches(value: BSONValue) -> Bool {
        switch value {
        case .string(let s), .symbol(let s): return matches(s)
        case .regex(let r):
            return BSONComparator.compareUTF8(r.pattern, pattern) == 0 && BSONComparator.compareUTF8(r.options, options) == 0
        default: return false
        }
    }
}
