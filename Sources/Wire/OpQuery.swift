import BSON
import NIOCore

/// A legacy OP_QUERY (opcode 2004).
///
/// Modern servers accept it only for commands on `<db>.$cmd`, which is how libmongoc, the Go
/// driver and older drivers send their first `isMaster`/`hello`. ``command()`` turns such a query
/// into the same shape an OP_MSG body has.
public struct OpQuery: Sendable, Hashable {
    /// OP_QUERY flag bits.
    public struct Flags: OptionSet, Sendable, Hashable {
        /// The raw bit field.
        public let rawValue: Int32
        /// Wraps a raw bit field.
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// Bit 1: tailable cursor.
        public static let tailableCursor = Flags(rawValue: 1 << 1)
        /// Bit 2: reads from secondaries are acceptable (libmongoc sets it: flags 4).
        public static let secondaryOk = Flags(rawValue: 1 << 2)
        /// Bit 3: oplog replay.
        public static let oplogReplay = Flags(rawValue: 1 << 3)
        /// Bit 4: the cursor must not time out.
        public static let noCursorTimeout = Flags(rawValue: 1 << 4)
        /// Bit 5: await data on a tailable cursor.
        public static let awaitData = Flags(rawValue: 1 << 5)
        /// Bit 6: exhaust.
        public static let exhaust = Flags(rawValue: 1 << 6)
        /// Bit 7: partial results from a sharded cluster.
        public static let partial = Flags(rawValue: 1 << 7)
    }

    /// A command carried by an OP_QUERY on `<db>.$cmd`.
    public struct Command: Sendable, Hashable {
        /// The database named before `.$cmd`.
        public var database: String
        /// The command document, unwrapped from `$query` and carrying `$db` (see ``OpQuery/command()``).
        public var document: BSONDocument

        /// Creates a command.
        public init(database: String, document: BSONDocument) {
            self.database = database
            self.document = document
        }
    }

    /// The flag bits.
    public var flags: Flags
    /// The namespace, `<db>.<collection>`; `<db>.$cmd` for commands.
    public var fullCollectionName: String
    /// Documents to skip.
    public var numberToSkip: Int32
    /// Batch size; -1 for commands ("return one document and close").
    public var numberToReturn: Int32
    /// The query (for commands, the command, possibly wrapped in `$query`).
    public var query: BSONDocument
    /// The optional projection.
    public var returnFieldsSelector: BSONDocument?

    /// Creates a query message.
    public init(
        flags: Flags = [], fullCollectionName: String, numberToSkip: Int32 = 0, numberToReturn: Int32 = -1,
        query: BSONDocument, returnFieldsSelector: BSONDocument? = nil
    ) {
        self.flags = flags
        self.fullCollectionName = fullCollectionName
        self.numberToSkip = numberToSkip
        self.numberToReturn = numberToReturn
        self.query = query
        self.returnFieldsSelector = returnFieldsSelector
    }

    /// Parses and validates the OP_QUERY in `frame`; every document must be valid BSON and no
    /// bytes may follow the optional returnFieldsSelector.
    public init(frame: WireFrame) throws(WireProtocolError) {
        guard frame.header.opCode == .query else {
            throw WireProtocolError(.unexpectedOpCode, "expected OP_QUERY, got \(frame.header.opCode)")
        }
        var buffer = frame.body
        let flags = Flags(rawValue: try buffer.readWireInt32("OP_QUERY flags"))
        // Content faults (a namespace that is not UTF-8, a document that fails validation) are
        // thrown only once the whole message is known to be well framed.
        var invalid: WireProtocolError?
        func content<T>(_ read: (inout ByteBuffer) throws(WireProtocolError) -> T) throws(WireProtocolError) -> T? {
            do {
                return try read(&buffer)
            } catch {
                guard error.kind == .invalidBSON else { throw error }
                if invalid == nil { invalid = error }
                return nil
            }
        }
        let namespace = try content { b throws(WireProtocolError) in
            try b.readWireCString("OP_QUERY fullCollectionName", badUTF8: .invalidBSON)
        }
        let skip = try buffer.readWireInt32("OP_QUERY numberToSkip")
        let limit = try buffer.readWireInt32("OP_QUERY numberToReturn")
        let query = try content { b throws(WireProtocolError) in try b.readWireDocument("OP_QUERY query", overrun: .truncated) }
        var selector: BSONDocument?
        if buffer.readableBytes > 0 {
            selector = try content { b throws(WireProtocolError) in
                try b.readWireDocument("OP_QUERY returnFieldsSelector", overrun: .truncated)
            }
        }
        guard buffer.readableBytes == 0 else {
            throw WireProtocolError(.trailingBytes, "OP_QUERY has \(buffer.readableBytes) bytes after its last document")
        }
        if let invalid { throw invalid }
        guard let namespace, let query else { throw WireProtocolError(.invalidBSON, "OP_QUERY could not be read") }
        self.init(
            flags: flags, fullCollectionName: namespace, numberToSkip: skip, numberToReturn: limit,
            query: query, returnFieldsSelector: selector
        )
    }

    /// The part of ``fullCollectionName`` before the first dot (the whole name if there is none).
    public var databaseName: Substring {
        fullCollectionName.prefix { $0 != "." }
    }

    /// The part of ``fullCollectionName`` after the first dot, or nil if there is no dot.
    public var collectionName: Substring? {
        guard let dot = fullCollectionName.firstIndex(of: ".") else { return nil }
        return fullCollectionName[fullCollectionName.index(after: dot)...]
    }

    /// True when the namespace is `<db>.$cmd`.
    public var isCommand: Bool { collectionName == "$cmd" && !databaseName.isEmpty }

    /// The command this query carries, shaped like an OP_MSG body.
    ///
    /// The namespace must be `<db>.$cmd`. If the query wraps the command in `$query`, the wrapped
    /// document is the command and the wrapper's `$readPreference` is carried over (unless the
    /// command has its own); other wrapper modifiers are dropped. `$db` is appended with the
    /// namespace's database unless present. Throws for other namespaces, a `$query` that is not a
    /// document, or an empty command.
    public func command() throws(WireProtocolError) -> Command {
        guard isCommand else {
            throw WireProtocolError(
                .invalidNamespace, "OP_QUERY is only supported for commands on <db>.$cmd, not '\(fullCollectionName)'"
            )
        }
        let database = String(databaseName)
        var document: BSONDocument
        if let wrapped = query["$query"] {
            guard case .document(let inner) = wrapped else {
                throw WireProtocolError(.invalidCommand, "OP_QUERY $query is a \(wrapped.type), not a document")
            }
            document = inner
            if let readPreference = query.element(forKey: "$readPreference"), !inner.contains("$readPreference") {
                document.append(raw: readPreference)
            }
        } else {
            document = query
        }
        guard !document.isEmpty else {
            throw WireProtocolError(.invalidCommand, "OP_QUERY on '\(fullCollectionName)' carries an empty command")
        }
        if !document.contains("$db") {
            document.append("$db", .string(database))
        }
        return Command(database: database, document: document)
    }

    /// Appends this message, header included, to `buffer` (for clients and tests).
    public func write(requestID: Int32, to buffer: inout ByteBuffer) {
        let start = buffer.writerIndex
        MessageHeader(messageLength: 0, requestID: requestID, responseTo: 0, opCode: .query).write(to: &buffer)
        buffer.writeInteger(flags.rawValue, endianness: .little)
        buffer.writeWireCString(fullCollectionName)
        buffer.writeInteger(numberToSkip, endianness: .little)
        buffer.writeInteger(numberToReturn, endianness: .little)
        buffer.writeDocument(query)
        if let returnFieldsSelector { buffer.writeDocument(returnFieldsSelector) }
        buffer.setInteger(Int32(truncatingIfNeeded: buffer.writerIndex - start), at: start, endianness: .little)
    }
}
