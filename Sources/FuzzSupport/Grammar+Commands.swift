import BSON
import Wire

/// Commands: every name in `CommandTable` (plus aliases and unknown names), each with its own
/// fields and the generic ones drivers add, any field possibly of a wrong type or range.
extension Grammar {
    static let collections = ["c", "c", "c", "fs.files", "fs.chunks", "d", "system.x", "", "a.b", "$cmd", String(repeating: "n", count: 250)]
    static let databases = ["fuzz", "fuzz", "fuzz", "admin", "fuzz2", "", "a.b", "a b", "$x", String(repeating: "d", count: 70)]

    /// The next command, as an OP_MSG (kind-0 body, maybe kind-1 sequences for write batches).
    public mutating func command() -> OpMsg {
        let collection: BSONValue = wild(.string(input.pick(Self.collections)))
        var body = BSONDocument()
        var sequences: [OpMsg.DocumentSequence] = []
        /// A write batch: inline in the body or as a kind-1 sequence.
        func batch(_ field: String, _ docs: [BSONDocument], _ body: inout BSONDocument, _ wildValue: BSONValue?) {
            if let wildValue { body.append(field, wildValue); return }
            if docs.count % 2 == 1 || docs.isEmpty { body.append(field, .array(docs.map { .document($0) })) } else {
                sequences.append(OpMsg.DocumentSequence(identifier: field, documents: docs))
            }
        }
        switch input.choose(36) {
        case 0, 1, 2:
            body.append("insert", collection)
            let docs = (0..<smallCount(4)).map { _ in document(depth: 3) }
            batch("documents", docs, &body, input.chance(5) ? value(depth: 1) : nil)
            if input.chance(30) { body.append("ordered", wild(.bool(input.chance(50)))) }
        case 3, 4, 5, 6:
            body.append("find", collection)
            if input.chance(80) { body.append("filter", wild(.document(filter()))) }
            if input.chance(40) { body.append("projection", wild(.document(projection()))) }
            if input.chance(40) { body.append("sort", wild(.document(sort()))) }
            for field in ["limit", "skip", "batchSize"] where input.chance(35) { body.append(field, number()) }
            if input.chance(20) { body.append("singleBatch", wild(.bool(input.chance(50)))) }
            if input.chance(15) { body.append("hint", input.chance(50) ? .string(input.pick(["_id_", "a_1", "x"])) : .document(sort())) }
            if input.chance(10) { body.append(input.pick(["min", "max", "collation", "let", "returnKey", "tailable", "awaitData", "noCursorTimeout", "allowDiskUse"]), value(depth: 1)) }
        case 7, 8, 9:
            body.append("update", collection)
            let updates = (0..<(1 + smallCount(2))).map { _ -> BSONDocument in
                var u: BSONDocument = ["q": wild(.document(filter())), "u": update()]
                if input.chance(30) { u.append("upsert", wild(.bool(input.chance(50)))) }
                if input.chance(30) { u.append("multi", wild(.bool(input.chance(50)))) }
                if input.chance(15) { u.append("arrayFilters", .array([.document(["e": .document(condition(depth: 0))])])) }
                if input.chance(10) { u.append(input.pick(["hint", "collation", "c", "sort"]), value(depth: 1)) }
                return u
            }
            batch("updates", updates, &body, input.chance(5) ? value(depth: 1) : nil)
        case 10, 11:
            body.append("delete", collection)
            let deletes = (0..<(1 + smallCount(2))).map { _ -> BSONDocument in
                ["q": wild(.document(filter())), "limit": wild(input.pick([.int32(0), .int32(1), number()]))]
            }
            batch("deletes", deletes, &body, input.chance(5) ? value(depth: 1) : nil)
        case 12, 13, 14:
            body.append("aggregate", input.chance(90) ? collection : .int32(1))
            body.append("pipeline", wild(.array(pipeline())))
            body.append("cursor", wild(input.chance(70) ? .document([:]) : .document(["batchSize": number()])))
            if input.chance(10) { body.append(input.pick(["explain", "allowDiskUse", "let", "hint"]), value(depth: 1)) }
        case 15, 16:
            body.append("findAndModify", collection)
            if input.chance(80) { body.append("query", wild(.document(filter()))) }
            if input.chance(30) { body.append("sort", wild(.document(sort()))) }
            if input.chance(30) { body.append("remove", wild(.bool(true))) } else { body.append("update", update()) }
            for field in ["new", "upsert"] where input.chance(30) { body.append(field, wild(.bool(input.chance(50)))) }
            if input.chance(30) { body.append("fields", wild(.document(projection()))) }
        case 17:
            body.append("count", collection)
            if input.chance(70) { body.append("query", wild(.document(filter()))) }
            for field in ["limit", "skip"] where input.chance(40) { body.append(field, number()) }
        case 18:
            body.append("distinct", collection)
            body.append("key", wild(.string(fieldName())))
            if input.chance(60) { body.append("query", wild(.document(filter()))) }
        case 19, 20:
            body.append("createIndexes", collection)
            let specs = (0..<(1 + smallCount(2))).map { _ -> BSONValue in
                var key = BSONDocument()
                for _ in 0..<(1 + smallCount(input.pick([2, 3, 40]))) {
                    key.append(fieldName(), wild(input.pick([.int32(1), .int32(-1), "text", "2dsphere", "hashed", .double(0.5), .int64(.min)])))
                }
                var spec: BSONDocument = ["key": wild(.document(key)), "name": wild(.string(input.pick(["a_1", "_id_", "", "x", "ix"])))]
                if input.chance(30) { spec.append(input.pick(["unique", "sparse", "expireAfterSeconds", "partialFilterExpression", "v", "background", "collation", "hidden"]), value(depth: 1)) }
                return wild(.document(spec))
            }
            body.append("indexes", wild(.array(specs)))
        case 21:
            body.append("dropIndexes", collection)
            body.append("index", wild(input.pick(["*", "a_1", "_id_", "x", .array(["a_1", "ix"]), .document(["a": 1])])))
        case 22:
            body.append(input.pick(["create", "drop"]), collection)
            if input.chance(30) { body.append(input.pick(["capped", "size", "max", "validator", "viewOn", "timeseries", "clusteredIndex"]), value(depth: 1)) }
        case 23:
            body.append("getMore", wild(.int64(cursorIds.isEmpty || input.chance(20) ? int64() : input.pick(cursorIds))))
            body.append("collection", collection)
            if input.chance(50) { body.append("batchSize", number()) }
        case 24:
            body.append("killCursors", collection)
            body.append("cursors", wild(.array([.int64(cursorIds.isEmpty ? int64() : input.pick(cursorIds)), number()])))
        case 25:
            body.append(input.pick(["listCollections", "listDatabases", "listIndexes"]), input.chance(50) ? collection : .int32(1))
            if input.chance(40) { body.append("filter", wild(.document(filter(depth: 1)))) }
            if input.chance(30) { body.append("cursor", wild(.document(["batchSize": number()]))) }
            if input.chance(30) { body.append(input.pick(["nameOnly", "authorizedCollections", "authorizedDatabases"]), wild(.bool(true))) }
        case 26:
            body.append("renameCollection", wild(.string("fuzz." + input.pick(Self.collections))))
            body.append("to", wild(.string(input.pick(Self.databases) + "." + input.pick(Self.collections))))
            if input.chance(40) { body.append("dropTarget", wild(.bool(input.chance(50)))) }
        case 27:
            body.append(input.pick(["collStats", "validate", "dataSize"]), collection)
            if input.chance(40) { body.append(input.pick(["scale", "full"]), number()) }
        case 28:
            body.append(input.pick(["dbStats", "dropDatabase"]), .int32(1))
            if input.chance(40) { body.append("scale", number()) }
        case 29:
            body.append("getParameter", wild(input.pick(["*", .int32(1), .document(["showDetails": true])])))
            if input.chance(70) { body.append(input.pick(["maxBSONDepth", "featureCompatibilityVersion", "x"]), .int32(1)) }
        case 30:
            body.append(input.pick(["hello", "isMaster", "ismaster"]), .int32(1))
            if input.chance(50) { body.append(input.pick(["helloOk", "client", "saslSupportedMechs", "speculativeAuthenticate", "topologyVersion", "maxAwaitTimeMS", "compression", "loadBalanced"]), value(depth: 2)) }
        case 31:
            body.append("endSessions", wild(.array([.document(["id": .binary(BSONBinary(subtype: 4, data: input.raw(16)))]), value(depth: 1)])))
        case 32:
            body.append(input.pick(["serverStatus", "buildInfo", "buildinfo", "hostInfo", "connectionStatus", "listCommands",
                                    "getCmdLineOpts", "getLastError", "getlasterror", "whatsmyuri", "ping", "compact"]), wild(.int32(1)))
            if input.chance(30) { body.append(input.pick(["showPrivileges", "repl", "metrics"]), value(depth: 1)) }
        case 33, 34:
            adminCommand(&body)
        default:
            body.append(input.chance(50) ? fieldName() : input.pick(["saslStart", "eval", "mapReduce", "$cmd", "abortTransaction"]), value(depth: 2))
        }
        appendGenericFields(&body)
        return OpMsg(flags: [], body: body, documentSequences: sequences)
    }

    /// `$db`, and sometimes the fields drivers add: lsid, txnNumber, maxTimeMS, comment, concerns, read preference.
    mutating func appendGenericFields(_ body: inout BSONDocument) {
        if input.chance(95) { body.append("$db", wild(.string(input.pick(Self.databases)))) }
        if input.chance(20) { body.append("lsid", wild(.document(["id": .binary(BSONBinary(subtype: 4, data: input.raw(16)))]))) }
        if input.chance(15) { body.append("maxTimeMS", input.chance(50) ? input.pick([.int32(1), .int32(5), .int64(20), .double(2.5)]) : number()) }
        if input.chance(10) { body.append("comment", value(depth: 1)) }
        if input.chance(15) { body.append("writeConcern", wild(.document(["w": input.pick([.int32(1), .int32(0), "majority", .int32(-1), number()]), "j": .bool(true), "wtimeout": number()]))) }
        if input.chance(10) { body.append("readConcern", wild(.document(["level": input.pick(["local", "majority", "snapshot", "x"])]))) }
        if input.chance(10) { body.append("$readPreference", wild(.document(["mode": input.pick(["primary", "secondary", "nearest", "x"])]))) }
        if input.chance(5) { body.append(input.pick(["txnNumber", "autocommit", "startTransaction", "apiVersion", "apiStrict", "$clusterTime"]), value(depth: 1)) }
    }
}
