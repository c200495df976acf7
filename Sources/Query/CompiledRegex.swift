import BSON
import CPCRE2
import Synchronization

/// A PCRE2 pattern compiled once (UTF mode) and freed when the last reference goes away.
///
/// Compiled PCRE2 code is read-only after compilation, so one instance may be used from several
/// threads at once; each match allocates its own match data.
///
/// Every match runs under PCRE2 limits (``matchLimit``, ``depthLimit``), so a catastrophic pattern
/// such as `^(a+)+$` against `"aaaa…b"` stops after a bounded amount of work instead of pinning a
/// thread. A match that hits a limit counts as no match and is remembered: from then on the regex
/// matches nothing without running, and ``matchError`` says why; the query checks it (see
/// ``Filter/checkMatching()``) and fails with 51156, as mongod's `$regexMatch` does.
public final class CompiledRegex: @unchecked Sendable {
    /// PCRE2's match limit (its default is 10,000,000): measured for `^(a+)+$` on 40 `a`s and a
    /// `b`, the JIT gives up after 2.8 ms instead of 188 ms, the interpreter after 184 ms instead
    /// of 1.7 s. Ordinary patterns on 16 MB strings stay far below it.
    public static let matchLimit: UInt32 = 1_000_000
    /// PCRE2's backtracking depth limit (interpreter only; the JIT has its own 32 KiB stack).
    public static let depthLimit: UInt32 = 100_000
    /// The longest pattern accepted, in bytes (mongod's PCRE2 limit).
    public static let maxPatternLength = 32764
    /// The pattern as given.
    public let pattern: String
    /// The option letters as given (a subset of `imsx`, possibly also `u`).
    public let options: String
    private let code: OpaquePointer
    private let context: OpaquePointer?
    /// The first PCRE2 error a match returned (0: none).
    private let failure = Atomic<Int32>(0)

    /// Compiles `pattern` with MongoDB option letters: `i` caseless, `m` multiline, `s` dot-all,
    /// `x` extended, `u` (accepted, UTF is always on). Throws 51108 for another letter (a NUL in
    /// the options included), 2 BadValue for a NUL in the pattern and 51091 for a pattern PCRE2
    /// rejects, in mongod's order.
    public init(pattern: String, options: String) throws {
        var flags: UInt32 = UInt32(PCRE2_UTF)
        for c in options {
            switch c {
            case "i": flags |= UInt32(PCRE2_CASELESS)
            case "m": flags |= UInt32(PCRE2_MULTILINE)
            case "s": flags |= UInt32(PCRE2_DOTALL)
            case "x": flags |= UInt32(PCRE2_EXTENDED)
            case "u": break
            // mongod's `flagsToOptions` words it with an empty operator name before the space.
            default: throw QueryError.location(51108, " invalid flag in regex options: \(c)")
            }
        }
        if pattern.utf8.contains(0) {
            throw QueryError.badValue("Regular expression cannot contain an embedded null byte")
        }
        guard pattern.utf8.count <= Self.maxPatternLength else {
            throw QueryError.location(51091, "Regular expression is invalid: pattern string is longer than the limit set by the application")
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
        let context = pcre2_match_context_create_8(nil)
        if let context {
            pcre2_set_match_limit_8(context, Self.matchLimit)
            pcre2_set_depth_limit_8(context, Self.depthLimit)
        }
        self.context = context
        self.pattern = pattern
        self.options = options
    }

    deinit {
        pcre2_match_context_free_8(context)
        pcre2_code_free_8(code)
    }

    /// True when the pattern matches somewhere in `subject`. False when a limit was hit, now or
    /// by an earlier match (see ``matchError``).
    public func matches(_ subject: String) -> Bool {
        guard failure.load(ordering: .relaxed) == 0 else { return false }
        guard let md = pcre2_match_data_create_from_pattern_8(code, nil) else { return false }
        defer { pcre2_match_data_free_8(md) }
        var s = subject
        let rc = s.withUTF8 { buf in
            pcre2_match_8(code, buf.baseAddress, buf.count, 0, 0, md, context)
        }
        if rc < PCRE2_ERROR_PARTIAL {
            _ = failure.compareExchange(expected: 0, desired: rc, ordering: .relaxed)
        }
        return rc >= 0
    }

    /// Why matching stopped, when a match hit a PCRE2 limit (or failed otherwise): mongod's
    /// 51156, with PCRE2's message ("match limit exceeded").
    public var matchError: QueryError? {
        let rc = failure.load(ordering: .relaxed)
        guard rc != 0 else { return nil }
        var buf = [UInt8](repeating: 0, count: 256)
        let n = pcre2_get_error_message_8(rc, &buf, buf.count)
        let text = n > 0 ? String(decoding: buf.prefix(Int(n)), as: UTF8.self) : "error \(rc)"
        return QueryError.location(51156, "Error occurred while executing the regular expression in $regex. Result code: \(text)")
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
