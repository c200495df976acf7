/// The fuzzer's bytes read as a stream of choices, for the structure-aware target.
///
/// Every read is total: once the bytes run out, every choice is 0 (the first alternative), so any
/// byte string decodes to some input and a shorter input is a simpler one (libFuzzer's shrinking
/// then simplifies the generated commands too).
public struct FuzzInput {
    private let bytes: [UInt8]
    private var position = 0

    /// Reads choices out of `bytes`.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// True once every byte has been used.
    public var isExhausted: Bool { position >= bytes.count }

    /// The next byte, or 0 past the end.
    public mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    /// A choice in `0..<count` (`count` ≥ 1); one byte up to 256 alternatives, two beyond.
    public mutating func choose(_ count: Int) -> Int {
        guard count > 1 else { return 0 }
        if count <= 256 { return Int(byte()) % count }
        return (Int(byte()) << 8 | Int(byte())) % count
    }

    /// One of `options` (not empty).
    public mutating func pick<T>(_ options: [T]) -> T {
        options[choose(options.count)]
    }

    /// True with probability about `percent`/100.
    public mutating func chance(_ percent: Int) -> Bool {
        Int(byte()) * 100 < percent * 256
    }

    /// A little-endian integer of `width` bytes (1...8), sign-extended from the top byte read.
    public mutating func integer(width: Int) -> Int64 {
        var raw: UInt64 = 0
        for i in 0..<min(max(width, 1), 8) { raw |= UInt64(byte()) << (8 * UInt64(i)) }
        let shift = UInt64(64 - 8 * min(max(width, 1), 8))
        return Int64(bitPattern: raw << shift) >> Int64(shift)
    }

    /// `count` raw bytes (zeros past the end).
    public mutating func raw(_ count: Int) -> [UInt8] {
        (0..<max(count, 0)).map { _ in byte() }
    }
}
