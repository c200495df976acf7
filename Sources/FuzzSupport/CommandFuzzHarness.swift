import BSON
import Commands
import Query
import Server
import Storage
import Synchronization
import Wire

/// The structure-aware target: the input's bytes are choices in ``Grammar``, which builds up to
/// four commands (every command gridlite accepts, with edge values in every field). They run on one
/// connection against a store that first gets a small fixture collection (`fuzz.c`, plus a GridFS
/// bucket, and the user ``Grammar/rootUser``), so queries, updates, cursors and logins have
/// something to work on. Every reply is checked. The server's set-up (`--auth`, logged in or not,
/// test commands) is the ``FuzzMode`` of the first byte's high bits.
public enum CommandFuzzHarness {
    /// Documents of many shapes in `fuzz.c`: nested, arrays, every number type, strings, nulls.
    static let fixture: [BSONValue] = [
        .document(["_id": .int32(1), "a": .int32(1), "b": "x", "arr": .array([.int32(1), .int32(2), .int32(3)])]),
        .document(["_id": .int32(2), "a": .int64(.max), "b": "y", "arr": .array([.document(["b": .int32(1)]), .null])]),
        .document(["_id": .double(-0.0), "a": .double(.nan), "s": "é", "n": .null, "d": .datetime(.min)]),
        .document(["_id": "s", "a": .document(["b": .document(["c": .decimal128(Decimal128("1E6144") ?? Decimal128(low: 0, high: 0))])]), "tags": .array(["a", "b"])]),
        .document(["_id": .objectId(ObjectId(bytes: [UInt8](repeating: 7, count: 12)) ?? ObjectId()), "a": .int32(.min), "x": .double(.infinity), "arr": .array([])]),
        .document(["_id": .int64(.min), "a": .array([.int32(5), .array([.int32(6)])]), "b": .bool(true), "x": .minKey]),
    ]

    /// A GridFS file with one chunk in `fuzz.fs`.
    static let gridFS: [(String, BSONValue)] = [
        ("fs.files", .document(["_id": .int32(1), "length": .int64(3), "chunkSize": .int32(261_120), "uploadDate": .datetime(0), "filename": "f"])),
        ("fs.chunks", .document(["_id": .int32(1), "files_id": .int32(1), "n": .int32(0), "data": .binary(BSONBinary(data: [1, 2, 3]))])),
    ]

    /// Runs one input (libFuzzer's callback and the regression test both call this).
    public static func run(_ data: UnsafeBufferPointer<UInt8>) {
        run(Array(data))
    }

    /// Runs one input from synchronous code (libFuzzer's callback, the replay tool).
    public static func run(_ bytes: [UInt8]) {
        _ = FuzzEngine.shared  // opened here, on the caller's thread, before the first input's task
        FuzzEngine.blocking { await runAsync(bytes) }
    }

    /// Runs one input (the regression test calls this: blocking a test's thread could starve the pool).
    public static func runAsync(_ bytes: [UInt8]) async {
        let mode = FuzzMode(byte: bytes.first ?? 0)
        await FuzzEngine.shared.session(mode) { context, dispatcher in
            if fixtureSetUp.load(ordering: .relaxed) != FuzzEngine.emptied.load(ordering: .relaxed) {
                await FuzzEngine.empty(context.storage)
                await setUp(context: context, dispatcher: dispatcher)
                await recordFixtureIndexes(context.storage)
                fixtureSetUp.store(FuzzEngine.emptied.load(ordering: .relaxed), ordering: .relaxed)
            }
            var grammar = Grammar(bytes)
            var readOnly = true
            for _ in 0..<(1 + grammar.input.choose(4)) {
                let message = grammar.command()
                readOnly = readOnly && isReadOnly(message)
                let (reply, close) = await FuzzEngine.execute(
                    { () throws(CommandError) in try CommandRequest(message: message) }, context: &context, dispatcher: dispatcher)
                if close { break }
                if case .document(let cursor)? = reply["cursor"], case .int64(let id)? = cursor["id"], id != 0 {
                    grammar.cursorIds.append(id)
                }
                if grammar.input.isExhausted { break }
            }
            // Anything that may have written: the store is put back to the fixture now, so every
            // input starts from the same state.
            if !readOnly {
                await context.cursors.closeAll(connectionId: context.connection.id)
                await restore(context: context, dispatcher: dispatcher)
            }
            return false
        }
    }

    /// The fixture's collections (the root user's included).
    static let fixtureNamespaces: Set<Namespace> = [
        Namespace(unchecked: "fuzz", "c"), Namespace(unchecked: "fuzz", "fs.files"), Namespace(unchecked: "fuzz", "fs.chunks"),
        Namespace(unchecked: "admin", "system.users"),
    ]

    /// The indexes each fixture collection has right after a set-up from an empty store (GridFS
    /// collections get their own), by name.
    static let fixtureIndexes = Mutex<[Namespace: Set<String>]>([:])

    /// Records ``fixtureIndexes`` (after a set-up from an empty store).
    static func recordFixtureIndexes(_ storage: any StorageEngine) async {
        var found: [Namespace: Set<String>] = [:]
        for namespace in fixtureNamespaces {
            found[namespace] = Set(((try? await storage.listIndexes(namespace)) ?? []).map(\.name))
        }
        fixtureIndexes.withLock { $0 = found }
    }

    /// Puts the store back to exactly the fixture after an input that may have written, with as
    /// little schema work as possible: each collection is its own SQLite table, and dropping and
    /// re-creating them (tables, indexes, and every prepared statement SQLite then re-parses) cost
    /// more than the rest of an input (`perf`: 30-40% of the target's time). So the fixture's
    /// collections are emptied and refilled (their extra indexes dropped); only what the input
    /// created is dropped, and a fixture collection the input dropped or re-created with options
    /// is re-created. On any storage error the store is emptied and set up from scratch instead.
    static func restore(context: CommandContext, dispatcher: CommandDispatcher) async {
        let storage = context.storage
        do {
            for database in try await storage.listDatabases() {
                for info in try await storage.listCollections(in: database.name) {
                    let namespace = Namespace(unchecked: database.name, info.name)
                    guard fixtureNamespaces.contains(namespace), info.options.isEmpty else {
                        _ = try await storage.dropCollection(namespace)
                        continue
                    }
                    _ = try await storage.delete([DeleteStatement(filter: try Filter([:]), limit: 0)], in: namespace, ordered: true)
                    let own = fixtureIndexes.withLock { $0[namespace] } ?? ["_id_"]
                    for index in try await storage.listIndexes(namespace) where !own.contains(index.name) {
                        _ = try await storage.dropIndexes(.name(index.name), on: namespace)
                    }
                }
            }
            await setUp(context: context, dispatcher: dispatcher)
        } catch {
            await FuzzEngine.empty(storage)
            await setUp(context: context, dispatcher: dispatcher)
        }
        fixtureSetUp.store(FuzzEngine.emptied.load(ordering: .relaxed), ordering: .relaxed)
    }

    /// The value of ``FuzzEngine/emptied`` right after the fixture was set up: while it is unchanged
    /// the store holds exactly the fixture (every input since then only read). Re-creating the
    /// fixture costs more than most inputs, and most inputs only read.
    static let fixtureSetUp = Atomic<Int>(-1)

    /// Commands that never change stored data (an aggregation without `$out`/`$merge`).
    static let readOnlyCommands: Set<String> = [
        "find", "count", "distinct", "aggregate", "getMore", "killCursors", "listCollections", "listDatabases",
        "listIndexes", "collStats", "dataSize", "validate", "dbStats", "getParameter", "hello", "isMaster", "ismaster",
        "endSessions", "serverStatus", "buildInfo", "buildinfo", "hostInfo", "connectionStatus", "listCommands",
        "getCmdLineOpts", "getLastError", "getlasterror", "whatsmyuri", "ping",
        // Connection and process state only (the fail point is turned off after every input).
        "saslStart", "saslContinue", "logout", "usersInfo", "rolesInfo", "currentOp", "configureFailPoint",
    ]

    /// Whether `message` cannot change stored data (by its name; unknown names cannot either).
    static func isReadOnly(_ message: OpMsg) -> Bool {
        guard let name = message.body.keys.first else { return true }
        if name == "aggregate" {
            // Searched as bytes: decoding the body into a String cost more than the rest of the check.
            let bytes = Array(message.body.bytes)
            return !contains(bytes, Array("$out".utf8)) && !contains(bytes, Array("$merge".utf8))
        }
        return readOnlyCommands.contains(name) || CommandTable.all.allSatisfy { !$0.names.contains(name) }
    }

    /// Whether `needle` occurs in `haystack`.
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return needle.isEmpty }
        guard let first = needle.first else { return true }
        var start = 0
        while start <= haystack.count - needle.count {
            if haystack[start] == first && haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
            start += 1
        }
        return false
    }

    /// Inserts the fixture and stores ``Grammar/rootUser``; a failure here is a bug (these are
    /// ordinary documents).
    /// Inserted as a client without `--auth` would (the input's own connection may not be allowed to).
    static func setUp(context inputContext: CommandContext, dispatcher: CommandDispatcher) async {
        await FuzzEngine.shared.storeRootUser()
        let context = CommandContext(
            environment: FuzzEngine.shared.environment(.plain), connection: inputContext.connection,
            logger: inputContext.logger, storage: inputContext.storage, cursors: inputContext.cursors)
        var batches: [(String, [BSONValue])] = [("c", fixture)]
        for (collection, doc) in gridFS { batches.append((collection, [doc])) }
        for (collection, docs) in batches {
            let body: BSONDocument = ["insert": .string(collection), "documents": .array(docs), "$db": "fuzz"]
            do {
                let reply = await dispatcher.dispatch(try CommandRequest(body: body, database: "fuzz"), context: context)
                guard reply["ok"] == .double(1), reply["writeErrors"] == nil else {
                    fatalError("fuzz: fixture insert into \(collection) failed: \(reply)")
                }
            } catch {
                fatalError("fuzz: fixture insert into \(collection) failed: \(error)")
            }
        }
    }
}
