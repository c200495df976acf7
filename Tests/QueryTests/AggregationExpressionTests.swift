import BSON
import Testing
@testable import Query

/// One expression: JSON expression, JSON document, expected JSON value (or "MISSING").
struct ExprCase: CustomStringConvertible, Sendable {
    let expr: String
    let doc: String
    let result: String
    init(_ expr: String, _ doc: String = "{}", _ result: String) {
        self.expr = expr
        self.doc = doc
        self.result = result
    }
    var description: String { "\(expr) on \(doc)" }
}

let exprCases: [ExprCase] = [
    // Field paths and variables
    ExprCase(#""$a""#, #"{"a": 1}"#, "1"),
    ExprCase(#""$a.b""#, #"{"a": {"b": "x"}}"#, #""x""#),
    ExprCase(#""$a.b""#, #"{"a": [{"b": 1}, {"c": 2}, 3, {"b": [4]}]}"#, "[1, [4]]"),
    ExprCase(#""$a.0""#, #"{"a": [1, 2]}"#, "[]"),
    ExprCase(#""$nope""#, #"{"a": 1}"#, "MISSING"),
    ExprCase(#""$a.b""#, #"{"a": 5}"#, "MISSING"),
    ExprCase(#""$$ROOT""#, #"{"a": 1}"#, #"{"a": 1}"#),
    ExprCase(#""$$CURRENT.a""#, #"{"a": 2}"#, "2"),
    ExprCase(#""$$REMOVE""#, #"{"a": 1}"#, "MISSING"),
    // Literals, objects, arrays
    ExprCase("5", "{}", "5"),
    ExprCase(#""plain""#, "{}", #""plain""#),
    ExprCase(#"{"%literal": "$a"}"#, #"{"a": 1}"#, #""$a""#),
    ExprCase(#"{"%literal": {"%add": 1}}"#, "{}", #"{"$add": 1}"#),
    ExprCase(#"{"x": "$a", "y": {"z": 1}, "m": "$missing"}"#, #"{"a": 1}"#, #"{"x": 1, "y": {"z": 1}}"#),
    ExprCase(#"["$a", "$missing", 3]"#, #"{"a": 1}"#, "[1, null, 3]"),
    // Arithmetic
    ExprCase(#"{"%add": [1, 2, 3]}"#, "{}", "6"),
    ExprCase(#"{"%add": [2147483647, 1]}"#, "{}", #"{"$numberLong": "2147483648"}"#),
    ExprCase(#"{"%add": [1, 0.5]}"#, "{}", "1.5"),
    ExprCase(#"{"%add": [1, {"$numberLong": "2"}]}"#, "{}", #"{"$numberLong": "3"}"#),
    ExprCase(#"{"%add": [1, null]}"#, "{}", "null"),
    ExprCase(#"{"%add": [1, "$missing"]}"#, "{}", "null"),
    ExprCase(#"{"%add": ["$d", 1000]}"#, #"{"d": {"$date": {"$numberLong": "0"}}}"#, #"{"$date": {"$numberLong": "1000"}}"#),
    ExprCase(#"{"%subtract": [5, 7]}"#, "{}", "-2"),
    ExprCase(#"{"%subtract": [5.5, 1]}"#, "{}", "4.5"),
    ExprCase(#"{"%subtract": ["$d", "$e"]}"#, #"{"d": {"$date": {"$numberLong": "5000"}}, "e": {"$date": {"$numberLong": "2000"}}}"#, #"{"$numberLong": "3000"}"#),
    ExprCase(#"{"%subtract": ["$d", 500]}"#, #"{"d": {"$date": {"$numberLong": "5000"}}}"#, #"{"$date": {"$numberLong": "4500"}}"#),
    ExprCase(#"{"%subtract": [null, 1]}"#, "{}", "null"),
    ExprCase(#"{"%multiply": [2, 3, 4]}"#, "{}", "24"),
    ExprCase(#"{"%multiply": [65536, 65536]}"#, "{}", #"{"$numberLong": "4294967296"}"#),
    ExprCase(#"{"%multiply": [2, 1.5]}"#, "{}", "3.0"),
    ExprCase(#"{"%multiply": [2, "$missing"]}"#, "{}", "null"),
    ExprCase(#"{"%divide": [7, 2]}"#, "{}", "3.5"),
    ExprCase(#"{"%divide": [6, 3]}"#, "{}", "2.0"),
    ExprCase(#"{"%divide": [null, 3]}"#, "{}", "null"),
    // Strings
    ExprCase(#"{"%concat": ["a", "$b", "c"]}"#, #"{"b": "-"}"#, #""a-c""#),
    ExprCase(#"{"%concat": ["a", "$missing"]}"#, "{}", "null"),
    ExprCase(#"{"%concat": []}"#, "{}", #""""#),
    ExprCase(#"{"%toLower": "AbC"}"#, "{}", #""abc""#),
    ExprCase(#"{"%toUpper": "$s"}"#, #"{"s": "abÉ"}"#, #""ABÉ""#),
    ExprCase(#"{"%toUpper": "$missing"}"#, "{}", #""""#),
    ExprCase(#"{"%toLower": 12}"#, "{}", #""12""#),
    // Comparisons
    ExprCase(#"{"%eq": [1, 1.0]}"#, "{}", "true"),
    ExprCase(#"{"%eq": ["$missing", null]}"#, "{}", "false"),
    ExprCase(#"{"%eq": ["$a", "$b"]}"#, "{}", "true"),
    ExprCase(#"{"%ne": [1, "1"]}"#, "{}", "true"),
    ExprCase(#"{"%gt": ["b", "a"]}"#, "{}", "true"),
    ExprCase(#"{"%gt": ["a", 5]}"#, "{}", "true"),
    ExprCase(#"{"%gte": [2, 2]}"#, "{}", "true"),
    ExprCase(#"{"%lt": [null, 0]}"#, "{}", "true"),
    ExprCase(#"{"%lt": ["$missing", null]}"#, "{}", "true"),
    ExprCase(#"{"%lte": [3, 2]}"#, "{}", "false"),
    // Boolean
    ExprCase(#"{"%and": [1, true, "x", []]}"#, "{}", "true"),
    ExprCase(#"{"%and": [1, 0]}"#, "{}", "false"),
    ExprCase(#"{"%and": []}"#, "{}", "true"),
    ExprCase(#"{"%or": [null, "$missing", 0, false]}"#, "{}", "false"),
    ExprCase(#"{"%or": [null, 0.1]}"#, "{}", "true"),
    ExprCase(#"{"%not": [0]}"#, "{}", "true"),
    ExprCase(#"{"%not": "$a"}"#, #"{"a": "s"}"#, "false"),
    // Conditionals
    ExprCase(#"{"%cond": [{"%gt": ["$a", 1]}, "big", "small"]}"#, #"{"a": 2}"#, #""big""#),
    ExprCase(#"{"%cond": {"if": "$missing", "then": 1, "else": 2}}"#, "{}", "2"),
    ExprCase(#"{"%ifNull": ["$a", "dflt"]}"#, #"{"a": null}"#, #""dflt""#),
    ExprCase(#"{"%ifNull": ["$a", "dflt"]}"#, #"{"a": 0}"#, "0"),
    ExprCase(#"{"%ifNull": ["$x", "$y", "z"]}"#, #"{"y": 3}"#, "3"),
    ExprCase(#"{"%ifNull": ["$x", "$y"]}"#, "{}", "MISSING"),
    // Arrays and types
    ExprCase(#"{"%size": "$a"}"#, #"{"a": [1, 2, 3]}"#, "3"),
    ExprCase(#"{"%size": [[1, 2]]}"#, "{}", "2"),
    ExprCase(#"{"%arrayElemAt": ["$a", 0]}"#, #"{"a": [7, 8]}"#, "7"),
    ExprCase(#"{"%arrayElemAt": ["$a", -1]}"#, #"{"a": [7, 8]}"#, "8"),
    ExprCase(#"{"%arrayElemAt": ["$a", 5]}"#, #"{"a": [7, 8]}"#, "MISSING"),
    ExprCase(#"{"%arrayElemAt": ["$a", 1.0]}"#, #"{"a": [7, 8]}"#, "8"),
    ExprCase(#"{"%arrayElemAt": ["$missing", 0]}"#, "{}", "null"),
    ExprCase(#"{"%type": "$a"}"#, #"{"a": 1}"#, #""int""#),
    ExprCase(#"{"%type": "$a"}"#, #"{"a": {"$numberLong": "1"}}"#, #""long""#),
    ExprCase(#"{"%type": "$a"}"#, #"{"a": [1]}"#, #""array""#),
    ExprCase(#"{"%type": "$a"}"#, #"{"a": {"x": 1}}"#, #""object""#),
    ExprCase(#"{"%type": "$missing"}"#, "{}", #""missing""#),
    ExprCase(#"{"%type": [null]}"#, "{}", #""null""#),
]

@Suite struct AggregationExpressionTests {
    @Test(arguments: exprCases)
    func expression(_ c: ExprCase) throws {
        let got = try aggEval(c.expr, c.doc)
        let want = c.result == "MISSING" ? "MISSING" : try aggValue(c.result)
        #expect(got == want)
    }

    @Test func letVariables() throws {
        let p = try Pipeline(stages: aggDocs(#"[{"%project": {"_id": 0, "v": "$$limit", "w": "$$obj.k"}}]"#),
                             variables: JQ(#"{"limit": {"%add": [1, 2]}, "obj": {"k": "x"}}"#))
        let out = try p.run([BSONDocument()])
        #expect(aggCanonical(out) == aggCanonical(try aggDocs(#"[{"v": 3, "w": "x"}]"#)))
    }

    @Test func isoDateFormatting() {
        #expect(AggregationArithmetic.isoDate(0) == "1970-01-01T00:00:00.000Z")
        #expect(AggregationArithmetic.isoDate(951_782_400_123) == "2000-02-29T00:00:00.123Z")
        #expect(AggregationArithmetic.isoDate(-1) == "1969-12-31T23:59:59.999Z")
    }
}
