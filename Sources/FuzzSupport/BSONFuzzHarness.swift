import BSON

/// The BSON target: the input is a document a client sent (or a stored one read back), and, when it
/// starts with `{`, extended JSON (what `gridlite import` and the HTTP gateway's metadata read). No
/// storage: it runs at thousands of inputs per second where the wire target runs at hundreds.
///
/// For bytes that ``BSONDocument/init(validating:)`` accepts, it checks what the rest of the code
/// relies on:
/// - every element decodes (recursively), and the paths of its keys resolve;
/// - re-encoding the decoded values gives a document that validates, and re-encoding that is a fixed
///   point (arrays' keys are renumbered and regex options sorted, so the first re-encoding may
///   differ from the input, the second may not); when the input is already in that canonical form
///   it must come back byte for byte;
/// - libbson accepts it too (gridlite's validator is the stricter one, see `BSONDocument.validate`);
/// - its canonical and relaxed extended JSON parse back, and canonical JSON is a fixed point.
///
/// Bytes it refuses are read the way damaged stored bytes are (`BSONDocument(storedBytes:)`): the
/// readers must bounds-check everything, so walking and printing them cannot crash either.
public enum BSONFuzzHarness {
    /// Runs one input (libFuzzer's callback).
    public static func run(_ data: UnsafeBufferPointer<UInt8>) {
        run(Array(data))
    }

    /// Runs one input (libFuzzer's callback, the replay tool and the regression test).
    public static func run(_ bytes: [UInt8]) {
        if let document = try? BSONDocument(validating: bytes) {
            checkValid(document)
        } else if let stored = BSONDocument(storedBytes: bytes) {
            walkDamaged(stored)
        }
        if bytes.first == UInt8(ascii: "{") {
            checkJSON(String(decoding: bytes, as: UTF8.self))
        }
    }

    /// The checks on a document that passed validation.
    static func checkValid(_ document: BSONDocument) {
        walk(document, depth: 0)
        if BSONDocument.libbsonValidationError(document.bytes) != nil {
            fail("libbson refuses a document gridlite's validator accepts", document.bytes)
        }
        let once = reencoded(document)
        guard (try? BSONDocument(validating: once.bytes)) != nil else {
            fail("re-encoding a valid document gives invalid BSON", document.bytes)
        }
        if reencoded(once).bytes != once.bytes {
            fail("re-encoding is not a fixed point", document.bytes)
        }
        if hasCanonicalArrayKeys(document), once.bytes != document.bytes {
            fail("re-encoding changed a document already in canonical form", document.bytes)
        }
        let canonical = once.canonicalExtendedJSON
        let relaxed = document.relaxedExtendedJSON
        // Extended JSON has no escape: a key such as `$numberLong` inside a stored document prints
        // as a type wrapper (the specification's known ambiguity), so only documents without `$` keys
        // must come back.
        if !hasDollarKey(document.elements) {
            guard let parsed = try? BSONDocument(extendedJSON: canonical) else {
                fail("canonical extended JSON does not parse back: \(canonical.prefix(300))", document.bytes)
            }
            if parsed.canonicalExtendedJSON != canonical {
                fail("canonical extended JSON is not a fixed point: \(canonical.prefix(300))", document.bytes)
            }
            if (try? BSONDocument(extendedJSON: relaxed)) == nil {
                fail("relaxed extended JSON does not parse back: \(relaxed.prefix(300))", document.bytes)
            }
        }
        _ = document.storageDepth
    }

    /// Decodes every element and resolves its key as a path, recursively.
    static func walk(_ document: BSONDocument, depth: Int) {
        var count = 0
        for element in document.elements {
            count += 1
            let value = element.value
            _ = document.value(atPath: element.key)
            _ = element.type
            _ = element.binaryPayloadRange
            switch value {
            case .document(let inner): walk(inner, depth: depth + 1)
            case .javascriptWithScope(let code): walk(code.scope, depth: depth + 1)
            case .array(let items):
                for case .document(let inner) in items { walk(inner, depth: depth + 1) }
            default: break
            }
        }
        if count != document.count { fail("element count differs between two walks", document.bytes) }
    }

    /// Damaged bytes with a correct length and terminator: every reader must stay in bounds.
    static func walkDamaged(_ document: BSONDocument) {
        for element in document.elements {
            _ = element.key
            _ = element.value
            _ = element.children.map { Array($0) }
            _ = element.binaryPayloadRange
        }
        _ = document.keys
        _ = document.storageDepth
        _ = document.relaxedExtendedJSON
        _ = document["_id"]
        _ = document.value(atPath: "a.b.0")
    }

    /// Extended JSON text: it parses or throws; what parses must be valid BSON and print back.
    static func checkJSON(_ text: String) {
        guard let document = try? BSONDocument(extendedJSON: text) else { return }
        guard (try? BSONDocument(validating: document.bytes)) != nil else {
            fail("extended JSON parsed into invalid BSON", Array(text.utf8))
        }
        let canonical = document.canonicalExtendedJSON
        guard let again = try? BSONDocument(extendedJSON: canonical), again.canonicalExtendedJSON == canonical else {
            fail("parsed extended JSON does not print back to itself: \(canonical.prefix(300))", Array(text.utf8))
        }
    }

    /// Whether a key anywhere (code-with-scope scopes included) starts with `$`.
    static func hasDollarKey(_ elements: BSONElementSequence) -> Bool {
        for element in elements {
            if element.key.hasPrefix("$") { return true }
            if let children = element.children, hasDollarKey(children) { return true }
            if case .javascriptWithScope(let code) = element.value, hasDollarKey(code.scope.elements) { return true }
        }
        return false
    }

    /// The document rebuilt from its decoded values.
    static func reencoded(_ document: BSONDocument) -> BSONDocument {
        BSONDocument(document.pairs.map { ($0.key, $0.value) })
    }

    /// Whether `document` is in the form the encoder writes: every array (at any depth) has keys
    /// "0", "1", … in order, and every regex's option letters are sorted.
    static func hasCanonicalArrayKeys(_ document: BSONDocument) -> Bool {
        canonicalKeys(document.elements, isArray: false)
    }

    private static func canonicalKeys(_ elements: BSONElementSequence, isArray: Bool) -> Bool {
        var index = 0
        for element in elements {
            if isArray, element.key != String(index) { return false }
            index += 1
            if let children = element.children {
                guard canonicalKeys(children, isArray: element.type == .array) else { return false }
            } else if case .javascriptWithScope(let code) = element.value {
                guard hasCanonicalArrayKeys(code.scope) else { return false }
            } else if case .regex(let regex) = element.value, String(regex.options.sorted()) != regex.options {
                return false  // the encoder sorts option letters, as BSON requires
            }
        }
        return true
    }

    /// The oracle: stop the run so libFuzzer saves the input.
    static func fail(_ message: String, _ bytes: [UInt8]) -> Never {
        fatalError("fuzz bson: \(message); input \(bytes.prefix(64).map { String($0, radix: 16) })")
    }
}
