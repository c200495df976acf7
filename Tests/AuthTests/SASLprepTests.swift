import Auth
import Testing

/// SASLprep (RFC 4013) cases: the RFC's §3 examples and the MongoDB authentication
/// specification's SCRAM-SHA-256 test users.
struct SASLprepTests {
    @Test(arguments: [
        ("I\u{00AD}X", "IX"),          // soft hyphen mapped to nothing
        ("user", "user"),
        ("USER", "USER"),              // case preserved
        ("\u{00AA}", "a"),             // NFKC
        ("\u{2168}", "IX"),            // ROMAN NUMERAL NINE → IX (NFKC)
        ("\u{2163}", "IV"),
        ("I\u{00AD}V", "IV"),
        ("a\u{00A0}b", "a b"),         // non-ASCII space → space
        ("a\u{200B}b", "ab"),          // zero-width space mapped to nothing
        ("\u{05D0}\u{05D1}", "\u{05D0}\u{05D1}"),  // all right-to-left is fine
    ])
    func prepares(_ input: String, _ expected: String) throws {
        #expect(try SASLprep.prepare(input) == expected)
    }

    @Test func prohibitedCharacters() {
        #expect(throws: SASLprep.Failure.prohibited(0x07)) { try SASLprep.prepare("\u{0007}") }
        #expect(throws: SASLprep.Failure.prohibited(0xE000)) { try SASLprep.prepare("a\u{E000}") }
        #expect(throws: SASLprep.Failure.prohibited(0x200E)) { try SASLprep.prepare("a\u{200E}b") }
        #expect(throws: SASLprep.Failure.prohibited(0xFFFF)) { try SASLprep.prepare("\u{FFFF}") }
        #expect(throws: SASLprep.Failure.prohibited(0xE0001)) { try SASLprep.prepare("\u{E0001}") }
    }

    @Test func bidirectionalRule() {
        // RFC 4013 §3 example 7: a right-to-left character followed by a digit and nothing RTL at the end.
        #expect(throws: SASLprep.Failure.bidirectional) { try SASLprep.prepare("\u{0627}1") }
        #expect(throws: SASLprep.Failure.bidirectional) { try SASLprep.prepare("\u{05D0}a\u{05D0}") }
        #expect((try? SASLprep.prepare("\u{0627}1\u{0628}")) == "\u{0627}1\u{0628}")
    }

    @Test func sha256PasswordsArePrepped() throws {
        // The auth spec's users: "IX"/"IX" logs in with "I\u00ADX"; "\u2168"/"\u2163" with "IV".
        let stored = try ScramMechanism.sha256.preparePassword(user: "IX", password: "IX")
        #expect(try ScramMechanism.sha256.preparePassword(user: "IX", password: "I\u{00AD}X") == stored)
        let roman = try ScramMechanism.sha256.preparePassword(user: "\u{2168}", password: "\u{2163}")
        #expect(try ScramMechanism.sha256.preparePassword(user: "\u{2168}", password: "I\u{00AD}V") == roman)
        #expect(try ScramMechanism.sha256.preparePassword(user: "\u{2168}", password: "IV") == roman)
        // SHA-1 is never prepped: the soft hyphen changes the digest.
        #expect(try ScramMechanism.sha1.preparePassword(user: "IX", password: "IX")
                != ScramMechanism.sha1.preparePassword(user: "IX", password: "I\u{00AD}X"))
    }
}
