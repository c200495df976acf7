import BSON
import Testing
@testable import Query

/// (filter, document, matches) in extended JSON.
typealias MatchCase = (String, String, Bool)

@Suite struct FilterMatchTests {
    static let equality: [MatchCase] = [
        ("{}", "{\"a\": 1}", true),
        ("{\"a\": 1}", "{\"a\": 1}", true),
        ("{\"a\": 1}", "{\"a\": 2}", false),
        ("{\"a\": 1}", "{\"a\": 1.0}", true),
        ("{\"a\": 1}", "{\"a\": {\"$numberLong\": \"1\"}}", true),
        ("{\"a\": 1}", "{\"a\": {\"$numberDecimal\": \"1.00\"}}", true),
        ("{\"a\": 1}", "{\"a\": \"1\"}", false),
        ("{\"a\": 1}", "{\"b\": 1}", false),
        ("{\"a\": \"x\"}", "{\"a\": \"x\"}", true),
        ("{\"a\": \"x\"}", "{\"a\": \"X\"}", false),
        ("{\"a\": \"\\u00e9\"}", "{\"a\": \"e\\u0301\"}", false),
        ("{\"a\": true}", "{\"a\": 1}", false),
        ("{\"a\": 1, \"b\": 2}", "{\"a\": 1, \"b\": 2}", true),
        ("{\"a\": 1, \"b\": 2}", "{\"a\": 1, \"b\": 3}", false),
        ("{\"a\": {\"b\": 1}}", "{\"a\": {\"b\": 1}}", true),
        ("{\"a\": {\"b\": 1}}", "{\"a\": {\"b\": 1, \"c\": 2}}", false),
        ("{\"a\": {\"b\": 1, \"c\": 2}}", "{\"a\": {\"c\": 2, \"b\": 1}}", false),
        ("{\"a\": {\"$oid\": \"5f0000000000000000000001\"}}", "{\"a\": {\"$oid\": \"5f0000000000000000000001\"}}", true),
        ("{\"a\": {\"$oid\": \"5f0000000000000000000001\"}}", "{\"a\": {\"$oid\": \"5f0000000000000000000002\"}}", false),
        ("{\"a\": {\"$date\": {\"$numberLong\": \"1000\"}}}", "{\"a\": {\"$date\": {\"$numberLong\": \"1000\"}}}", true),
        ("{\"a\": {\"$binary\": {\"base64\": \"AQI=\", \"subType\": \"00\"}}}", "{\"a\": {\"$binary\": {\"base64\": \"AQI=\", \"subType\": \"00\"}}}", true),
        ("{\"a\": {\"$binary\": {\"base64\": \"AQI=\", \"subType\": \"00\"}}}", "{\"a\": {\"$binary\": {\"base64\": \"AQI=\", \"subType\": \"04\"}}}", false),
        // arrays: element match and whole-array match
        ("{\"a\": 2}", "{\"a\": [1, 2, 3]}", true),
        ("{\"a\": 4}", "{\"a\": [1, 2, 3]}", false),
        ("{\"a\": [1, 2]}", "{\"a\": [1, 2]}", true),
        ("{\"a\": [1, 2]}", "{\"a\": [2, 1]}", false),
        ("{\"a\": [1, 2]}", "{\"a\": [[1, 2], 3]}", true),
        ("{\"a\": [1]}", "{\"a\": 1}", false),
        ("{\"a\": []}", "{\"a\": []}", true),
        ("{\"a\": []}", "{\"a\": [[]]}", true),
        ("{\"a\": []}", "{\"a\": [1]}", false),
        ("{\"a\": {\"b\": 1}}", "{\"a\": [{\"b\": 1}, {\"b\": 2}]}", true),
        // null and missing
        ("{\"a\": null}", "{\"a\": null}", true),
        ("{\"a\": null}", "{}", true),
        ("{\"a\": null}", "{\"a\": 0}", false),
        ("{\"a\": null}", "{\"a\": [1, null]}", true),
        ("{\"a\": null}", "{\"a\": [1, 2]}", false),
        ("{\"a\": null}", "{\"a\": []}", false),
        ("{\"a.b\": null}", "{\"a\": {\"c\": 1}}", true),
        ("{\"a.b\": null}", "{\"a\": 5}", true),
        ("{\"a.b\": null}", "{\"a\": [{\"b\": 1}, {\"c\": 1}]}", true),
        ("{\"a.b\": null}", "{\"a\": [{\"b\": 1}, {\"b\": 2}]}", false),
        ("{\"a\": {\"$eq\": null}}", "{}", true),
        // dotted paths
        ("{\"a.b\": 1}", "{\"a\": {\"b\": 1}}", true),
        ("{\"a.b\": 1}", "{\"a\": {\"b\": 2}}", false),
        ("{\"a.b.c\": 1}", "{\"a\": {\"b\": {\"c\": 1}}}", true),
        ("{\"a.b\": 1}", "{\"a\": [{\"b\": 2}, {\"b\": 1}]}", true),
        ("{\"a.b\": 1}", "{\"a\": [{\"b\": [0, 1]}]}", true),
        ("{\"a.b\": 1}", "{\"a\": [[{\"b\": 1}]]}", false),
        ("{\"a.0\": 5}", "{\"a\": [5, 6]}", true),
        ("{\"a.1\": 5}", "{\"a\": [5, 6]}", false),
        ("{\"a.1\": 6}", "{\"a\": [5, 6]}", true),
        ("{\"a.0\": 5}", "{\"a\": [{\"0\": 5}]}", true),
        ("{\"a.0.b\": 1}", "{\"a\": [{\"b\": 1}, {\"b\": 2}]}", true),
        ("{\"a.1.b\": 1}", "{\"a\": [{\"b\": 1}, {\"b\": 2}]}", false),
        ("{\"a.0\": 1}", "{\"a\": {\"0\": 1}}", true),
        ("{\"a.5\": 1}", "{\"a\": [1]}", false),
        ("{\"a.b\": 1}", "{\"a\": 1}", false),
        ("{\"a.b.c\": 3}", "{\"a\": [{\"b\": [{\"c\": 1}, {\"c\": 3}]}]}", true),
    ]

    static let comparison: [MatchCase] = [
        ("{\"a\": {\"$eq\": 1}}", "{\"a\": 1.0}", true),
        ("{\"a\": {\"$eq\": {\"$gt\": 1}}}", "{\"a\": {\"$gt\": 1}}", true),
        ("{\"a\": {\"$eq\": {\"$gt\": 1}}}", "{\"a\": 5}", false),
        ("{\"a\": {\"$eq\": [1, 2]}}", "{\"a\": [1, 2]}", true),
        ("{\"a\": {\"$eq\": 2}}", "{\"a\": [1, 2]}", true),
        ("{\"a\": {\"$ne\": 1}}", "{\"a\": 2}", true),
        ("{\"a\": {\"$ne\": 1}}", "{\"a\": 1}", false),
        ("{\"a\": {\"$ne\": 1}}", "{}", true),
        ("{\"a\": {\"$ne\": 1}}", "{\"a\": [1, 2]}", false),
        ("{\"a\": {\"$ne\": 3}}", "{\"a\": [1, 2]}", true),
        ("{\"a\": {\"$ne\": null}}", "{}", false),
        ("{\"a\": {\"$ne\": null}}", "{\"a\": 1}", true),
        ("{\"a\": {\"$gt\": 1}}", "{\"a\": 2}", true),
        ("{\"a\": {\"$gt\": 1}}", "{\"a\": 1}", false),
        ("{\"a\": {\"$gte\": 1}}", "{\"a\": 1}", true),
        ("{\"a\": {\"$lt\": 1}}", "{\"a\": 0.5}", true),
        ("{\"a\": {\"$lte\": 1}}", "{\"a\": {\"$numberLong\": \"1\"}}", true),
        ("{\"a\": {\"$gt\": 1}}", "{\"a\": \"2\"}", false),
        ("{\"a\": {\"$lt\": \"b\"}}", "{\"a\": 1}", false),
        ("{\"a\": {\"$lt\": \"b\"}}", "{\"a\": \"a\"}", true),
        ("{\"a\": {\"$gt\": \"B\"}}", "{\"a\": \"a\"}", true),
        ("{\"a\": {\"$gt\": 1}}", "{}", false),
        ("{\"a\": {\"$gt\": 1}}", "{\"a\": null}", false),
        ("{\"a\": {\"$gt\": 5}}", "{\"a\": [1, 10]}", true),
        ("{\"a\": {\"$gt\": 5, \"$lt\": 8}}", "{\"a\": [1, 10]}", true),
        ("{\"a\": {\"$gt\": 5, \"$lt\": 8}}", "{\"a\": 10}", false),
        ("{\"a\": {\"$gt\": 5, \"$lt\": 8}}", "{\"a\": 6}", true),
        ("{\"a\": {\"$gte\": null}}", "{}", true),
        ("{\"a\": {\"$lte\": null}}", "{\"a\": null}", true),
        ("{\"a\": {\"$gt\": null}}", "{}", false),
        ("{\"a\": {\"$lt\": null}}", "{\"a\": 1}", false),
        ("{\"a\": {\"$gt\": {\"$minKey\": 1}}}", "{\"a\": \"x\"}", true),
        ("{\"a\": {\"$lt\": {\"$maxKey\": 1}}}", "{\"a\": {\"x\": 1}}", true),
        ("{\"a\": {\"$gt\": {\"$date\": {\"$numberLong\": \"0\"}}}}", "{\"a\": {\"$date\": {\"$numberLong\": \"5\"}}}", true),
        ("{\"a\": {\"$gt\": {\"$date\": {\"$numberLong\": \"0\"}}}}", "{\"a\": 5}", false),
        ("{\"a\": {\"$gt\": {\"$numberDouble\": \"NaN\"}}}", "{\"a\": 5}", false),
        ("{\"a\": {\"$lt\": 5}}", "{\"a\": {\"$numberDouble\": \"NaN\"}}", false),
        ("{\"a\": {\"$gte\": {\"$numberDouble\": \"NaN\"}}}", "{\"a\": {\"$numberDouble\": \"NaN\"}}", true),
        ("{\"a\": {\"$eq\": {\"$numberDouble\": \"NaN\"}}}", "{\"a\": {\"$numberDouble\": \"NaN\"}}", true),
        ("{\"a\": {\"$lt\": {\"$numberDouble\": \"Infinity\"}}}", "{\"a\": {\"$numberLong\": \"9223372036854775807\"}}", true),
        ("{\"a\": {\"$gt\": 9007199254740992.0}}", "{\"a\": {\"$numberLong\": \"9007199254740993\"}}", true),
        ("{\"a\": {\"$gt\": [1]}}", "{\"a\": [2]}", true),
        ("{\"a\": {\"$gt\": {\"b\": 1}}}", "{\"a\": {\"b\": 2}}", true),
        ("{\"a\": {\"$gte\": \"\"}}", "{\"a\": {\"$symbol\": \"x\"}}", true),
        ("{\"n\": {\"$gte\": 2, \"$lt\": 4}}", "{\"n\": 3}", true),
        ("{\"n\": {\"$gte\": 2, \"$lt\": 4}}", "{\"n\": 4}", false),
    ]

    static let sets: [MatchCase] = [
        ("{\"a\": {\"$in\": [1, 2]}}", "{\"a\": 2}", true),
        ("{\"a\": {\"$in\": [1, 2]}}", "{\"a\": 3}", false),
        ("{\"a\": {\"$in\": [1, 2]}}", "{\"a\": [3, 2]}", true),
        ("{\"a\": {\"$in\": []}}", "{\"a\": 1}", false),
        ("{\"a\": {\"$in\": [null]}}", "{}", true),
        ("{\"a\": {\"$in\": [[1, 2]]}}", "{\"a\": [1, 2]}", true),
        ("{\"a\": {\"$in\": [{\"$regularExpression\": {\"pattern\": \"^x\", \"options\": \"\"}}]}}", "{\"a\": \"xyz\"}", true),
        ("{\"a\": {\"$in\": [{\"$regularExpression\": {\"pattern\": \"^x\", \"options\": \"\"}}, 5]}}", "{\"a\": 5}", true),
        ("{\"a\": {\"$in\": [{\"$regularExpression\": {\"pattern\": \"^x\", \"options\": \"\"}}]}}", "{\"a\": \"axy\"}", false),
        ("{\"a\": {\"$in\": [1.0]}}", "{\"a\": {\"$numberLong\": \"1\"}}", true),
        ("{\"a\": {\"$nin\": [1, 2]}}", "{\"a\": 3}", true),
        ("{\"a\": {\"$nin\": [1, 2]}}", "{\"a\": 1}", false),
        ("{\"a\": {\"$nin\": [1, 2]}}", "{}", true),
        ("{\"a\": {\"$nin\": [null]}}", "{}", false),
        ("{\"a\": {\"$nin\": [1]}}", "{\"a\": [0, 1]}", false),
        ("{\"a\": {\"$all\": [1, 2]}}", "{\"a\": [2, 3, 1]}", true),
        ("{\"a\": {\"$all\": [1, 2]}}", "{\"a\": [2, 3]}", false),
        ("{\"a\": {\"$all\": [1]}}", "{\"a\": 1}", true),
        ("{\"a\": {\"$all\": []}}", "{\"a\": [1]}", false),
        ("{\"a\": {\"$all\": [[1, 2]]}}", "{\"a\": [[1, 2], 3]}", true),
        ("{\"a\": {\"$all\": [{\"$regularExpression\": {\"pattern\": \"^a\", \"options\": \"\"}}, \"bc\"]}}", "{\"a\": [\"ab\", \"bc\"]}", true),
        ("{\"a\": {\"$all\": [{\"$elemMatch\": {\"x\": 1}}, {\"$elemMatch\": {\"y\": 2}}]}}", "{\"a\": [{\"x\": 1}, {\"y\": 2}]}", true),
        ("{\"a\": {\"$all\": [{\"$elemMatch\": {\"x\": 1}}, {\"$elemMatch\": {\"y\": 3}}]}}", "{\"a\": [{\"x\": 1}, {\"y\": 2}]}", false),
        ("{\"a\": {\"$size\": 2}}", "{\"a\": [1, 2]}", true),
        ("{\"a\": {\"$size\": 2}}", "{\"a\": [1]}", false),
        ("{\"a\": {\"$size\": 0}}", "{\"a\": []}", true),
        ("{\"a\": {\"$size\": 0}}", "{}", false),
        ("{\"a\": {\"$size\": 1}}", "{\"a\": 5}", false),
        ("{\"a\": {\"$size\": 2.0}}", "{\"a\": [1, 2]}", true),
        ("{\"a.b\": {\"$size\": 2}}", "{\"a\": [{\"b\": [1, 2]}]}", true),
        ("{\"a\": {\"$size\": 2}}", "{\"a\": [[1, 2]]}", false),
    ]

    static let existsAndType: [MatchCase] = [
        ("{\"a\": {\"$exists\": true}}", "{\"a\": null}", true),
        ("{\"a\": {\"$exists\": true}}", "{}", false),
        ("{\"a\": {\"$exists\": false}}", "{}", true),
        ("{\"a\": {\"$exists\": false}}", "{\"a\": 1}", false),
        ("{\"a\": {\"$exists\": 1}}", "{\"a\": 1}", true),
        ("{\"a\": {\"$exists\": 0}}", "{\"a\": 1}", false),
        ("{\"a.b\": {\"$exists\": true}}", "{\"a\": [{\"c\": 1}, {\"b\": 1}]}", true),
        ("{\"a.b\": {\"$exists\": false}}", "{\"a\": [{\"c\": 1}, {\"b\": 1}]}", false),
        ("{\"a.1\": {\"$exists\": true}}", "{\"a\": [1, 2]}", true),
        ("{\"a.2\": {\"$exists\": true}}", "{\"a\": [1, 2]}", false),
        ("{\"a\": {\"%type\": \"string\"}}", "{\"a\": \"x\"}", true),
        ("{\"a\": {\"%type\": \"string\"}}", "{\"a\": 1}", false),
        ("{\"a\": {\"%type\": 2}}", "{\"a\": \"x\"}", true),
        ("{\"a\": {\"%type\": 2.0}}", "{\"a\": \"x\"}", true),
        ("{\"a\": {\"%type\": \"int\"}}", "{\"a\": 1}", true),
        ("{\"a\": {\"%type\": \"long\"}}", "{\"a\": 1}", false),
        ("{\"a\": {\"%type\": \"long\"}}", "{\"a\": {\"$numberLong\": \"1\"}}", true),
        ("{\"a\": {\"%type\": \"double\"}}", "{\"a\": 1.5}", true),
        ("{\"a\": {\"%type\": \"decimal\"}}", "{\"a\": {\"$numberDecimal\": \"1\"}}", true),
        ("{\"a\": {\"%type\": \"number\"}}", "{\"a\": 1.5}", true),
        ("{\"a\": {\"%type\": \"number\"}}", "{\"a\": {\"$numberLong\": \"7\"}}", true),
        ("{\"a\": {\"%type\": \"number\"}}", "{\"a\": \"1\"}", false),
        ("{\"a\": {\"%type\": [\"string\", \"bool\"]}}", "{\"a\": true}", true),
        ("{\"a\": {\"%type\": [\"string\", 8]}}", "{\"a\": false}", true),
        ("{\"a\": {\"%type\": \"array\"}}", "{\"a\": [1]}", true),
        ("{\"a\": {\"%type\": \"array\"}}", "{\"a\": []}", true),
        ("{\"a\": {\"%type\": \"array\"}}", "{\"a\": 1}", false),
        ("{\"a\": {\"%type\": \"int\"}}", "{\"a\": [\"x\", 1]}", true),
        ("{\"a\": {\"%type\": \"object\"}}", "{\"a\": {}}", true),
        ("{\"a\": {\"%type\": \"null\"}}", "{\"a\": null}", true),
        ("{\"a\": {\"%type\": \"null\"}}", "{}", false),
        ("{\"a\": {\"%type\": \"objectId\"}}", "{\"a\": {\"$oid\": \"5f0000000000000000000001\"}}", true),
        ("{\"a\": {\"%type\": \"date\"}}", "{\"a\": {\"$date\": {\"$numberLong\": \"1\"}}}", true),
        ("{\"a\": {\"%type\": \"binData\"}}", "{\"a\": {\"$binary\": {\"base64\": \"\", \"subType\": \"00\"}}}", true),
        ("{\"a\": {\"%type\": \"minKey\"}}", "{\"a\": {\"$minKey\": 1}}", true),
        ("{\"a\": {\"%type\": -1}}", "{\"a\": {\"$minKey\": 1}}", true),
        ("{\"a\": {\"%type\": 127}}", "{\"a\": {\"$maxKey\": 1}}", true),
        ("{\"a\": {\"%type\": \"regex\"}}", "{\"a\": {\"$regularExpression\": {\"pattern\": \"x\", \"options\": \"\"}}}", true),
        ("{\"a\": {\"%type\": \"timestamp\"}}", "{\"a\": {\"$timestamp\": {\"t\": 1, \"i\": 1}}}", true),
        ("{\"a\": {\"$mod\": [4, 0]}}", "{\"a\": 8}", true),
        ("{\"a\": {\"$mod\": [4, 1]}}", "{\"a\": 8}", false),
        ("{\"a\": {\"$mod\": [4, 1]}}", "{\"a\": 9.9}", true),
        ("{\"a\": {\"$mod\": [4, -1]}}", "{\"a\": -5}", true),
        ("{\"a\": {\"$mod\": [4, 0]}}", "{\"a\": \"8\"}", false),
        ("{\"a\": {\"$mod\": [4, 0]}}", "{\"a\": [1, 12]}", true),
        ("{\"a\": {\"$mod\": [4.5, 0]}}", "{\"a\": 8}", true),
        ("{\"a\": {\"$mod\": [-1, 0]}}", "{\"a\": {\"$numberLong\": \"-9223372036854775808\"}}", true),
        ("{\"a\": {\"$mod\": [2, 0]}}", "{}", false),
    ]

    static let regexes: [MatchCase] = [
        ("{\"a\": {\"%regex\": \"^ab\"}}", "{\"a\": \"abc\"}", true),
        ("{\"a\": {\"%regex\": \"^ab\"}}", "{\"a\": \"cab\"}", false),
        ("{\"a\": {\"%regex\": \"AB\", \"%options\": \"i\"}}", "{\"a\": \"xaby\"}", true),
        ("{\"a\": {\"%regex\": \"AB\"}}", "{\"a\": \"xaby\"}", false),
        ("{\"a\": {\"$regularExpression\": {\"pattern\": \"AB\", \"options\": \"i\"}}}", "{\"a\": \"ab\"}", true),
        ("{\"a\": {\"%regex\": {\"$regularExpression\": {\"pattern\": \"AB\", \"options\": \"\"}}, \"%options\": \"i\"}}", "{\"a\": \"ab\"}", true),
        ("{\"a\": {\"%regex\": {\"$regularExpression\": {\"pattern\": \"AB\", \"options\": \"i\"}}}}", "{\"a\": \"ab\"}", true),
        ("{\"a\": {\"%regex\": \"^b\", \"%options\": \"m\"}}", "{\"a\": \"a\\nb\"}", true),
        ("{\"a\": {\"%regex\": \"^b\"}}", "{\"a\": \"a\\nb\"}", false),
        ("{\"a\": {\"%regex\": \"a.b\", \"%options\": \"s\"}}", "{\"a\": \"a\\nb\"}", true),
        ("{\"a\": {\"%regex\": \"a.b\"}}", "{\"a\": \"a\\nb\"}", false),
        ("{\"a\": {\"%regex\": \"a b # comment\", \"%options\": \"x\"}}", "{\"a\": \"ab\"}", true),
        ("{\"a\": {\"%regex\": \"^\\u00e9.$\"}}", "{\"a\": \"\\u00e9\\u00e8\"}", true),
        ("{\"a\": {\"%regex\": \"^.$\"}}", "{\"a\": \"\\u00e9\"}", true),
        ("{\"a\": {\"%regex\": \"\\u00c9\", \"%options\": \"i\"}}", "{\"a\": \"\\u00e9\"}", true),
        ("{\"a\": {\"%regex\": \"x\"}}", "{\"a\": [\"a\", \"xy\"]}", true),
        ("{\"a\": {\"%regex\": \"1\"}}", "{\"a\": 1}", false),
        ("{\"a\": {\"%regex\": \"x\"}}", "{}", false),
        ("{\"a\": {\"%regex\": \"x\"}}", "{\"a\": {\"$symbol\": \"x\"}}", true),
        ("{\"a\": {\"$regularExpression\": {\"pattern\": \"x\", \"options\": \"\"}}}", "{\"a\": {\"$regularExpression\": {\"pattern\": \"x\", \"options\": \"\"}}}", true),
        ("{\"a\": {\"$eq\": {\"$regularExpression\": {\"pattern\": \"x\", \"options\": \"\"}}}}", "{\"a\": \"x\"}", false),
        ("{\"a\": {\"$eq\": {\"$regularExpression\": {\"pattern\": \"x\", \"options\": \"\"}}}}", "{\"a\": {\"$regularExpression\": {\"pattern\": \"x\", \"options\": \"\"}}}", true),
        ("{\"a\": {\"$not\": {\"$regularExpression\": {\"pattern\": \"^x\", \"options\": \"\"}}}}", "{\"a\": \"abc\"}", true),
        ("{\"a\": {\"$not\": {\"$regularExpression\": {\"pattern\": \"^x\", \"options\": \"\"}}}}", "{\"a\": \"xbc\"}", false),
        ("{\"a\": {\"$not\": {\"%regex\": \"^x\"}}}", "{}", true),
        ("{\"filename\": {\"%regex\": \"^report\\\\.\"}}", "{\"filename\": \"report.txt\"}", true),
        ("{\"filename\": {\"%regex\": \"^report\\\\.\"}}", "{\"filename\": \"reportxtxt\"}", false),
    ]

    static let logical: [MatchCase] = [
        ("{\"$and\": [{\"a\": 1}, {\"b\": 2}]}", "{\"a\": 1, \"b\": 2}", true),
        ("{\"$and\": [{\"a\": 1}, {\"b\": 2}]}", "{\"a\": 1, \"b\": 3}", false),
        ("{\"$or\": [{\"a\": 1}, {\"b\": 2}]}", "{\"a\": 0, \"b\": 2}", true),
        ("{\"$or\": [{\"a\": 1}, {\"b\": 2}]}", "{\"a\": 0, \"b\": 0}", false),
        ("{\"$nor\": [{\"a\": 1}, {\"b\": 2}]}", "{\"a\": 0, \"b\": 0}", true),
        ("{\"$nor\": [{\"a\": 1}, {\"b\": 2}]}", "{\"a\": 1}", false),
        ("{\"$or\": [{\"a\": {\"$exists\": false}}, {\"a\": null}]}", "{}", true),
        ("{\"a\": 1, \"$or\": [{\"b\": 1}, {\"c\": 1}]}", "{\"a\": 1, \"c\": 1}", true),
        ("{\"a\": 1, \"$or\": [{\"b\": 1}, {\"c\": 1}]}", "{\"a\": 2, \"c\": 1}", false),
        ("{\"$and\": [{\"$or\": [{\"a\": 1}]}, {\"$nor\": [{\"b\": 1}]}]}", "{\"a\": 1, \"b\": 2}", true),
        ("{\"a\": {\"$not\": {\"$gt\": 5}}}", "{\"a\": 3}", true),
        ("{\"a\": {\"$not\": {\"$gt\": 5}}}", "{\"a\": 7}", false),
        ("{\"a\": {\"$not\": {\"$gt\": 5}}}", "{}", true),
        ("{\"a\": {\"$not\": {\"$gt\": 5}}}", "{\"a\": \"x\"}", true),
        ("{\"a\": {\"$not\": {\"$gt\": 5}}}", "{\"a\": [1, 10]}", false),
        ("{\"a\": {\"$not\": {\"$gt\": 1, \"$lt\": 5}}}", "{\"a\": 3}", false),
        ("{\"a\": {\"$not\": {\"$gt\": 1, \"$lt\": 5}}}", "{\"a\": 7}", true),
        ("{\"a\": {\"$not\": {\"$in\": [1, 2]}}}", "{\"a\": 3}", true),
        ("{\"a\": 1, \"$comment\": \"hello\"}", "{\"a\": 1}", true),
        ("{\"a\": {\"$gt\": 0, \"$comment\": \"x\"}}", "{\"a\": 1}", true),
    ]

    static let elemMatch: [MatchCase] = [
        ("{\"a\": {\"$elemMatch\": {\"$gt\": 5, \"$lt\": 8}}}", "{\"a\": [1, 10]}", false),
        ("{\"a\": {\"$elemMatch\": {\"$gt\": 5, \"$lt\": 8}}}", "{\"a\": [1, 6]}", true),
        ("{\"a\": {\"$elemMatch\": {\"$gt\": 5}}}", "{\"a\": 6}", false),
        ("{\"a\": {\"$elemMatch\": {\"b\": 1, \"c\": 2}}}", "{\"a\": [{\"b\": 1}, {\"c\": 2}]}", false),
        ("{\"a\": {\"$elemMatch\": {\"b\": 1, \"c\": 2}}}", "{\"a\": [{\"b\": 1, \"c\": 2}]}", true),
        ("{\"a\": {\"$elemMatch\": {\"b\": {\"$gt\": 1}}}}", "{\"a\": [{\"b\": 0}, {\"b\": 2}]}", true),
        ("{\"a\": {\"$elemMatch\": {\"b.c\": 1}}}", "{\"a\": [{\"b\": {\"c\": 1}}]}", true),
        ("{\"a\": {\"$elemMatch\": {\"b\": {\"$elemMatch\": {\"c\": 1}}}}}", "{\"a\": [{\"b\": [{\"c\": 1}]}]}", true),
        ("{\"a\": {\"$elemMatch\": {\"b\": {\"$elemMatch\": {\"c\": 2}}}}}", "{\"a\": [{\"b\": [{\"c\": 1}]}]}", false),
        ("{\"a\": {\"$elemMatch\": {\"$or\": [{\"b\": 1}, {\"c\": 1}]}}}", "{\"a\": [{\"c\": 1}]}", true),
        ("{\"a\": {\"$elemMatch\": {\"b\": 1}}}", "{\"a\": [1, 2]}", false),
        ("{\"a\": {\"$elemMatch\": {\"$eq\": 2}}}", "{\"a\": [1, 2]}", true),
        ("{\"a\": {\"$elemMatch\": {\"$in\": [3, 4]}}}", "{\"a\": [1, 4]}", true),
        ("{\"a\": {\"$elemMatch\": {\"$not\": {\"$gt\": 5}}}}", "{\"a\": [10, 1]}", true),
        ("{\"a\": {\"$elemMatch\": {\"$not\": {\"$gt\": 5}}}}", "{\"a\": [10, 11]}", false),
        ("{\"a\": {\"$elemMatch\": {\"%type\": \"string\"}}}", "{\"a\": [1, \"x\"]}", true),
        ("{\"a\": {\"$elemMatch\": {\"%regex\": \"^x\"}}}", "{\"a\": [\"ax\", \"xa\"]}", true),
        ("{\"a\": {\"$elemMatch\": {\"$size\": 2}}}", "{\"a\": [[1, 2]]}", true),
        ("{\"a.b\": {\"$elemMatch\": {\"$gt\": 2}}}", "{\"a\": [{\"b\": [1, 2]}, {\"b\": [3]}]}", true),
        ("{\"a\": {\"$elemMatch\": {}}}", "{\"a\": [{\"x\": 1}]}", true),
        ("{\"a\": {\"$elemMatch\": {}}}", "{\"a\": [1]}", false),
    ]

    static func check(_ c: MatchCase) throws {
        let filter = try Filter(try JQ(c.0))
        #expect(filter.matches(try J(c.1)) == c.2, "\(c.0) on \(c.1)")
    }

    @Test(arguments: equality) func equalityCases(_ c: MatchCase) throws { try Self.check(c) }
    @Test(arguments: comparison) func comparisonCases(_ c: MatchCase) throws { try Self.check(c) }
    @Test(arguments: sets) func setCases(_ c: MatchCase) throws { try Self.check(c) }
    @Test(arguments: existsAndType) func existsTypeModCases(_ c: MatchCase) throws { try Self.check(c) }
    @Test(arguments: regexes) func regexCases(_ c: MatchCase) throws { try Self.check(c) }
    @Test(arguments: logical) func logicalCases(_ c: MatchCase) throws { try Self.check(c) }
    @Test(arguments: elemMatch) func elemMatchCases(_ c: MatchCase) throws { try Self.check(c) }

    @Test func emptyFilterMatchesEverything() throws {
        #expect(try Filter(J("{}")).matchesEverything)
        #expect(Filter.all.matches(try J("{\"x\": 1}")))
        #expect(try !Filter(J("{\"a\": 1}")).matchesEverything)
    }
}

@Suite struct LargeInListTests {
    @Test func hashedLookupAgreesWithLinear() throws {
        var items: [BSONValue] = (0..<50).map { .int32(Int32($0 * 2)) }
        items.append(.string("s"))
        items.append(.double(101.5))
        let f = try Filter(["a": .document(["$in": .array(items)])])
        #expect(f.matches(["a": .int64(4)]))
        #expect(f.matches(["a": .double(98)]))
        #expect(!f.matches(["a": .int32(3)]))
        #expect(f.matches(["a": .string("s")]))
        #expect(f.matches(["a": .double(101.5)]))
        #expect(f.matches(["a": .array([.int32(1), .int32(6)])]))
        #expect(!f.matches([:]))
        let withNull = try Filter(["a": .document(["$in": .array(items + [.null])])])
        #expect(withNull.matches([:]))
        #expect(!withNull.matches(["a": .undefined]))
    }
}

@Suite struct FilterDifferentialTests {
    static func isScalar(_ v: BSONValue) -> Bool {
        switch v {
        case .array, .null, .undefined, .regex, .minKey, .maxKey: return false
        case .double(let d): return !d.isNaN
        case .decimal128(let d): return !d.doubleValue.isNaN
        default: return true
        }
    }

    @Test(arguments: [21, 22, 23])
    func comparisonOperatorsAgreeWithComparator(seed: UInt64) throws {
        var g = SplitMix64(state: seed)
        let values = (0..<60).map { _ in RandomBSON.value(&g, depth: 1) }.filter(Self.isScalar)
        for x in values {
            let filters = try ["$eq", "$gt", "$gte", "$lt", "$lte", "$ne"].map { op in
                (op, try Filter(["a": .document([op: x])]))
            }
            let inFilter = try Filter(["a": .document(["$in": .array(Array(repeating: x, count: 9))])])
            for y in values {
                let doc: BSONDocument = ["a": y]
                let c = compareBSON(y, x)
                let sameClass = BSONComparator.typeRank(x) == BSONComparator.typeRank(y)
                for (op, f) in filters {
                    let expected: Bool
                    switch op {
                    case "$eq": expected = c == 0
                    case "$ne": expected = c != 0
                    case "$gt": expected = sameClass && c > 0
                    case "$gte": expected = sameClass && c >= 0
                    case "$lt": expected = sameClass && c < 0
                    default: expected = sameClass && c <= 0
                    }
                    #expect(f.matches(doc) == expected, "\(op) \(x) on \(y)")
                }
                #expect(inFilter.matches(doc) == (c == 0), "$in \(x) on \(y)")
            }
        }
    }
}

@Suite struct FilterTrickyCases {
    static let cases: [MatchCase] = [
        ("{\"a.b\": {\"$in\": [null]}}", "{\"a\": [{\"b\": 1}, {}]}", true),
        ("{\"a\": {\"$exists\": true, \"$ne\": null}}", "{\"a\": null}", false),
        ("{\"a\": {\"$exists\": true, \"$ne\": null}}", "{\"a\": 0}", true),
        ("{\"a\": {\"$not\": {\"%regex\": \"^X\", \"%options\": \"i\"}}}", "{\"a\": \"xy\"}", false),
        ("{\"a\": {\"$not\": {\"$elemMatch\": {\"$gt\": 1}}}}", "{\"a\": [0, 1]}", true),
        ("{\"a\": {\"$not\": {\"$size\": 1}}}", "{\"a\": [0, 1]}", true),
        ("{\"a.0.b\": 2}", "{\"a\": [[{\"b\": 2}]]}", true),
        ("{\"a.b\": [1, 2]}", "{\"a\": [{\"b\": [1, 2]}]}", true),
        ("{\"a.b\": 2}", "{\"a\": {\"b\": [[2]]}}", false),
        ("{\"a.b\": [2]}", "{\"a\": {\"b\": [[2]]}}", true),
        ("{\"a\": {\"$gt\": 1}}", "{\"a\": [[5]]}", false),
        ("{\"a\": {\"$size\": 0}}", "{\"a\": {}}", false),
        ("{\"a\": {\"%type\": \"array\"}}", "{\"a\": [[1]]}", true),
        ("{\"a\": {\"$all\": [1, 1]}}", "{\"a\": [1]}", true),
        ("{\"a\": {\"$in\": [{\"b\": 1}]}}", "{\"a\": [{\"b\": 1}]}", true),
        ("{\"a\": {\"$in\": [{\"b\": 1}]}}", "{\"a\": {\"b\": 1.0}}", true),
        ("{\"a\": {\"$elemMatch\": {\"b\": null}}}", "{\"a\": [{\"c\": 1}]}", true),
        ("{\"a\": {\"$elemMatch\": {\"b\": {\"$exists\": false}}}}", "{\"a\": [{\"b\": 1}, {\"c\": 1}]}", true),
        ("{\"$or\": [{\"a\": {\"$elemMatch\": {\"x\": 1}}}, {\"b\": 2}]}", "{\"a\": [{\"x\": 2}], \"b\": 2}", true),
        ("{\"a\": {\"$lte\": [1, 2]}}", "{\"a\": [1, 1]}", true),
        ("{\"a\": {\"$lte\": [1, 2]}}", "{\"a\": [1, 3]}", false),
        ("{\"a\": {\"$gt\": {\"$numberDecimal\": \"1.5\"}}}", "{\"a\": 2}", true),
        ("{\"a\": {\"$eq\": {\"$numberDecimal\": \"2\"}}}", "{\"a\": {\"$numberLong\": \"2\"}}", true),
        ("{\"a\": {\"$lt\": {\"$date\": {\"$numberLong\": \"-1\"}}}}", "{\"a\": {\"$date\": {\"$numberLong\": \"-100\"}}}", true),
        ("{\"a\": {\"$gt\": {\"$timestamp\": {\"t\": 1, \"i\": 0}}}}", "{\"a\": {\"$timestamp\": {\"t\": 1, \"i\": 1}}}", true),
        ("{\"a\": {\"$gt\": {\"$oid\": \"5f0000000000000000000001\"}}}", "{\"a\": {\"$oid\": \"5f0000000000000000000002\"}}", true),
        ("{\"a\": {\"$gt\": false}}", "{\"a\": true}", true),
        ("{\"a\": {\"$gt\": false}}", "{\"a\": 1}", false),
        ("{\"_id\": {\"$in\": [1, 2, 3]}, \"x\": {\"$nin\": [4]}}", "{\"_id\": 2, \"x\": 5}", true),
        ("{\"$and\": [{\"a\": {\"$gt\": 1}}, {\"a\": {\"$lt\": 3}}]}", "{\"a\": [0, 4]}", true),
        ("{\"a\": {\"$elemMatch\": {\"$gt\": 1, \"$lt\": 3}}}", "{\"a\": [0, 4]}", false),
    ]

    @Test(arguments: cases) func tricky(_ c: MatchCase) throws { try FilterMatchTests.check(c) }
}
