import BSON

/// A dotted field path (`"a.b.0.c"`) split once into components, with each component's array
/// index precomputed (a component of plain decimal digits can address an array position).
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    /// The components, in order.
    public let components: [String]
    /// For each component, its value as an array index if it is all digits, else nil.
    let indexes: [Int?]
    /// The path as written.
    public let dotted: String
    /// Each component's UTF-8 bytes (for allocation-free key lookups).
    let keyBytes: [[UInt8]]

    /// Splits `dotted` on dots. An empty string gives the empty path (the value itself).
    public init(_ dotted: String) {
        self.dotted = dotted
        let parts = dotted.isEmpty ? [] : dotted.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        components = parts
        indexes = parts.map(FieldPath.arrayIndex)
        keyBytes = parts.map { Array($0.utf8) }
    }

    /// The number of components.
    public var count: Int { components.count }

    /// True for the empty path.
    public var isEmpty: Bool { components.isEmpty }

    public var description: String { dotted }

    /// The component as an array index: ASCII digits only, no sign, at most 9 digits.
    static func arrayIndex(_ s: String) -> Int? {
        let u = s.utf8
        guard !u.isEmpty, u.count <= 9 else { return nil }
        var n = 0
        for b in u {
            guard b >= 48 && b <= 57 else { return nil }
            n = n * 10 + Int(b - 48)
        }
        return n
    }

    /// True when `self` is a prefix of `other` (component-wise) or equal to it.
    public func isPrefix(of other: FieldPath) -> Bool {
        guard count <= other.count else { return false }
        for i in 0..<count where components[i] != other.components[i] { return false }
        return true
    }
}

/// MongoDB's path traversal with implicit array expansion.
enum PathWalker {
    /// Visits every value `path` reaches in `doc` — `nil` standing for "missing" — until `body`
    /// returns true; returns whether it did.
    ///
    /// At an array with components left, the walk descends into every element that is a
    /// document, and also into the element at that position when the component is numeric;
    /// nested arrays are not expanded. An array that yields nothing counts as missing.
    static func any(_ doc: BSONDocument, _ path: FieldPath, _ body: (BSONValue?) -> Bool) -> Bool {
        if path.isEmpty { return body(.document(doc)) }
        return walk(doc, path, 0, body)
    }

    static func walk(_ doc: BSONDocument, _ path: FieldPath, _ i: Int, _ body: (BSONValue?) -> Bool) -> Bool {
        guard let e = element(doc, path.keyBytes[i]) else { return body(nil) }
        let v = e.value
        if i == path.count - 1 { return body(v) }
        return walk(value: v, path, i + 1, body)
    }

    /// The first element of `doc` whose key is exactly `key`, found without allocating.
    static func element(_ doc: BSONDocument, _ key: [UInt8]) -> BSONElement? {
        for e in doc.elements {
            let raw = e.rawElement
            let keyStart = raw.startIndex + 1
            let keyEnd = keyStart + key.count
            guard keyEnd < raw.endIndex, raw[keyEnd] == 0 else { continue }
            var same = true
            var j = keyStart
            for b in key {
                if raw[j] != b { same = false; break }
                j += 1
            }
            if same { return e }
        }
        return nil
    }

    /// `value` was reached by components before `i`; `i` is still to be applied.
    static func walk(value: BSONValue, _ path: FieldPath, _ i: Int, _ body: (BSONValue?) -> Bool) -> Bool {
        switch value {
        case .document(let d):
            return walk(d, path, i, body)
        case .array(let a):
            var yielded = false
            if let idx = path.indexes[i], idx < a.count {
                yielded = true
                if i == path.count - 1 {
                    if body(a[idx]) { return true }
                } else if walk(value: a[idx], path, i + 1, body) {
                    return true
                }
            }
            for elem in a {
                if case .document(let d) = elem {
                    yielded = true
                    if walk(d, path, i, body) { return true }
                }
            }
            return yielded ? false : body(nil)
        default:
            return body(nil)
        }
    }
}
