import BSON
import Testing
@testable import Query

@Suite struct BSONComparatorTests {
    /// (a, b, expected sign of compare(a, b)) in extended JSON.
    static let cases: [(String, String, Int)] = [
        // cross-type order
        ("{\"$minKey\": 1}", "null", -1),
        ("null", "1", -1),
        ("1", "\"a\"", -1),
        ("\"a\"", "{}", -1),
        ("{}", "[]", -1),
        ("[]", "{\"$binary\": {\"base64\": \"\", \"subType\": \"00\"}}", -1),
        ("{\"$binary\": {\"base64\": \"AA==\", \"subType\": \"00\"}}", "{\"$oid\": \"000000000000000000000000\"}", -1),
        ("{\"$oid\": \"ffffffffffffffffffffffff\"}", "false", -1),
        ("true", "{\"$date\": {\"$numberLong\": \"0\"}}", -1),
        ("{\"$date\": {\"$numberLong\": \"99999999\"}}", "{\"$timestamp\": {\"t\": 0, \"i\": 0}}", -1),
        ("{\"$timestamp\": {\"t\": 5, \"i\": 0}}", "{\"$regularExpression\": {\"pattern\": \"a\", \"options\": \"\"}}", -1),
        ("{\"$regularExpression\": {\"pattern\": \"a\", \"options\": \"\"}}", "{\"$maxKey\": 1}", -1),
        ("{\"$undefined\": true}", "null", -1),
        ("{\"$minKey\": 1}", "{\"$minKey\": 1}", 0),
        ("{\"$maxKey\": 1}", "{\"$maxKey\": 1}", 0),
        ("null", "null", 0),
        // numbers across types
        ("1", "1.0", 0),
        ("1", "{\"$numberLong\": \"1\"}", 0),
        ("1.0", "{\"$numberLong\": \"1\"}", 0),
        ("{\"$numberDecimal\": \"1\"}", "1", 0),
        ("{\"$numberDecimal\": \"1.000\"}", "1.0", 0),
        ("{\"$numberDecimal\": \"1.5\"}", "1.5", 0),
        ("{\"$numberDecimal\": \"2\"}", "1.5", 1),
        ("{\"$numberDecimal\": \"-0\"}", "0", 0),
        ("{\"$numberDecimal\": \"1E+3\"}", "1000", 0),
        ("{\"$numberDecimal\": \"9223372036854775807\"}", "{\"$numberLong\": \"9223372036854775807\"}", 0),
        ("{\"$numberDecimal\": \"NaN\"}", "{\"$numberDouble\": \"NaN\"}", 0),
        ("{\"$numberDecimal\": \"Infinity\"}", "{\"$numberDouble\": \"Infinity\"}", 0),
        ("2", "1.5", 1),
        ("-1", "-0.5", -1),
        ("{\"$numberDouble\": \"-0.0\"}", "0", 0),
        ("{\"$numberDouble\": \"NaN\"}", "{\"$numberDouble\": \"-Infinity\"}", -1),
        ("{\"$numberDouble\": \"NaN\"}", "{\"$numberDouble\": \"NaN\"}", 0),
        ("{\"$numberDouble\": \"Infinity\"}", "{\"$numberLong\": \"9223372036854775807\"}", 1),
        // int64 beyond 2^53 against doubles
        ("{\"$numberLong\": \"9007199254740993\"}", "9007199254740992.0", 1),
        ("{\"$numberLong\": \"9007199254740992\"}", "9007199254740992.0", 0),
        ("{\"$numberLong\": \"9223372036854775807\"}", "9223372036854775808.0", -1),
        ("{\"$numberLong\": \"-9223372036854775808\"}", "-9223372036854775808.0", 0),
        ("{\"$numberLong\": \"-9223372036854775807\"}", "-9223372036854775808.0", 1),
        ("{\"$numberLong\": \"3\"}", "3.5", -1),
        ("{\"$numberLong\": \"-3\"}", "-3.5", 1),
        // strings bytewise
        ("\"a\"", "\"b\"", -1),
        ("\"a\"", "\"ab\"", -1),
        ("\"B\"", "\"a\"", -1),
        ("\"\"", "\"a\"", -1),
        ("\"\\u00e9\"", "\"e\\u0301\"", 1),
        ("\"\\u00e9\"", "\"\\u00e9\"", 0),
        ("{\"$symbol\": \"a\"}", "\"a\"", 0),
        // documents
        ("{\"a\": 1}", "{\"a\": 1}", 0),
        ("{\"a\": 1}", "{\"a\": 1.0}", 0),
        ("{\"a\": 1}", "{\"a\": 2}", -1),
        ("{\"a\": 1}", "{\"b\": 1}", -1),
        ("{\"a\": 1}", "{\"a\": 1, \"b\": 1}", -1),
        ("{\"a\": 1, \"b\": 2}", "{\"b\": 2, \"a\": 1}", -1),
        ("{\"b\": 1}", "{\"a\": \"x\"}", -1),
        ("{}", "{\"a\": 1}", -1),
        // arrays
        ("[1, 2]", "[1, 2]", 0),
        ("[1, 2]", "[1, 3]", -1),
        ("[1]", "[1, 2]", -1),
        ("[2]", "[1, 2]", 1),
        ("[]", "[null]", -1),
        ("[1, 2]", "[1.0, 2.0]", 0),
        // binary: length, subtype, bytes
        ("{\"$binary\": {\"base64\": \"AQI=\", \"subType\": \"00\"}}", "{\"$binary\": {\"base64\": \"AA==\", \"subType\": \"05\"}}", 1),
        ("{\"$binary\": {\"base64\": \"AA==\", \"subType\": \"05\"}}", "{\"$binary\": {\"base64\": \"AQ==\", \"subType\": \"00\"}}", 1),
        ("{\"$binary\": {\"base64\": \"AA==\", \"subType\": \"00\"}}", "{\"$binary\": {\"base64\": \"AQ==\", \"subType\": \"00\"}}", -1),
        // others
        ("false", "true", -1),
        ("{\"$oid\": \"000000000000000000000001\"}", "{\"$oid\": \"000000000000000000000002\"}", -1),
        ("{\"$date\": {\"$numberLong\": \"-5\"}}", "{\"$date\": {\"$numberLong\": \"3\"}}", -1),
        ("{\"$timestamp\": {\"t\": 1, \"i\": 9}}", "{\"$timestamp\": {\"t\": 2, \"i\": 0}}", -1),
        ("{\"$regularExpression\": {\"pattern\": \"a\", \"options\": \"i\"}}", "{\"$regularExpression\": {\"pattern\": \"a\", \"options\": \"\"}}", 1),
    ]

    @Test(arguments: cases)
    func ordering(_ c: (String, String, Int)) throws {
        let a = try V(c.0)
        let b = try V(c.1)
        #expect(sign(compareBSON(a, b)) == c.2, "\(c.0) vs \(c.1)")
        #expect(sign(compareBSON(b, a)) == -c.2, "\(c.1) vs \(c.0)")
        let ea = IndexKeyEncoder.encode(a)
        let eb = IndexKeyEncoder.encode(b)
        #expect(sign(memcmp(ea, eb)) == c.2, "encoded \(c.0) vs \(c.1)")
    }

    @Test func numericValueCanonicalForms() throws {
        #expect(NumericValue(.double(1.0)) == .int(1))
        #expect(NumericValue(.double(-0.0)) == .int(0))
        #expect(NumericValue(.double(0.5)) == .double(0.5))
        #expect(NumericValue(.double(.nan)) == .nan)
        #expect(NumericValue(.string("1")) == nil)
        #expect(NumericValue(try V("{\"$numberDecimal\": \"12.50\"}")) == .double(12.5))
        #expect(NumericValue(try V("{\"$numberDecimal\": \"1200E-2\"}")) == .int(12))
        #expect(NumericValue(try V("{\"$numberDecimal\": \"-9223372036854775808\"}")) == .int(.min))
    }
}
