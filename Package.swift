// swift-tools-version:6.1
import PackageDescription

/// gridlite: a MongoDB-wire-protocol daemon that keeps GridFS buckets in SQLite.
///
/// Modules, each depending only downward (see docs/architecture.md):
/// CLibBSON/CBSONShim → BSON → {Wire, Query}; MongoErrors (error codes) sits below Query;
/// Query → Storage (protocol + MongoDB's rules above engines) → {Commands, SQLiteStorage, MemoryStorage};
/// {Wire, CSnappy/CZlib/CZstd} → Compression; {Wire, Compression, Commands} → Server;
/// {Server, SQLiteStorage} → gridlite. The engines and Commands do not
/// know each other: gridlite hands the engine to the server as a `StorageEngine`.
/// Executors (a thread-pool task executor) depends on nothing and is used by SQLiteStorage, Server and gridlite.
let package = Package(
    name: "gridlite",
    products: [
        .executable(name: "gridlite", targets: ["gridlite"]),
        .executable(name: "gridlite-ceiling", targets: ["gridlite-ceiling"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // The metrics API only; the executable may bootstrap a backend (Prometheus) later.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        // The HTTP gateway's server; default traits off (no swift-configuration, no full Foundation).
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // HTTPRequestPart/HTTPResponsePart for the gateway's own channel handler (100-continue); already
        // in the graph through Hummingbird, so it adds no build time.
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        // The Prometheus exporter the executable bootstraps behind GET /metrics.
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // PostgreSQL wire client with a connection pool; only PostgresStorage imports it.
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        // TLS (BoringSSL inside; docs/decisions.md: why, and what a clean build of it costs).
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // libbson, through pkg-config; only the BSON module imports it (via the shim).
        .systemLibrary(
            name: "CLibBSON",
            pkgConfig: "libbson-1.0",
            providers: [.apt(["libbson-dev"])]
        ),
        // Plain-buffer C functions over libbson (Decimal128 text; libbson's validator for test cross-checks),
        // so Swift never holds a 128-byte-aligned bson_t. Only BSON imports it.
        .target(name: "CBSONShim", dependencies: ["CLibBSON"]),
        .target(name: "BSON", dependencies: ["CBSONShim"]),

        // Frames, OP_MSG, OP_QUERY/OP_REPLY. Knows no commands.
        .target(name: "Wire", dependencies: [
            "BSON",
            .product(name: "NIOCore", package: "swift-nio"),
        ]),

        // OP_COMPRESSED's codecs from the system (snappy has no .pc on Debian: plain module map);
        // only the Compression module imports them.
        .systemLibrary(name: "CSnappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // OP_COMPRESSED: snappy/zlib/zstd/noop codecs with bounded output, frame inflate/deflate.
        .target(name: "Compression", dependencies: [
            "Wire", "CSnappy", "CZlib", "CZstd",
            .product(name: "NIOCore", package: "swift-nio"),
        ]),

        // PCRE2 for $regex; only the Query module imports it.
        .systemLibrary(
            name: "CPCRE2",
            pkgConfig: "libpcre2-8",
            providers: [.apt(["libpcre2-dev"])]
        ),
        // The system libcrypto (OpenSSL) for SCRAM's hashes, HMAC, PBKDF2 and random bytes; only Auth imports it.
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // SCRAM-SHA-1/-256 (server state machine, stored credentials), SASLprep, users, built-in roles.
        .target(name: "Auth", dependencies: ["BSON", "CCrypto"]),

        // MongoDB's error codes and the one error type every layer throws. Depends on nothing.
        .target(name: "MongoErrors"),

        // MongoDB query semantics over BSON: comparison order, filters, projection, updates, key encoding.
        .target(name: "Query", dependencies: ["BSON", "CPCRE2", "MongoErrors"]),

        // A task executor on plain OS threads, where storage code may block (SQLite). Depends on nothing.
        .target(name: "Executors"),

        // The storage protocol every backend implements (with its pushdown hooks) and MongoDB's
        // rules above it (writes, upserts, blocking sort, cursor progress). Knows no SQL.
        .target(name: "Storage", dependencies: [
            "BSON", "Query", "MongoErrors",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // One handler per command, a sorted dispatch table, MongoDB error codes, the per-connection
        // session and the observation point every command passes (swift-metrics API). Knows no SQL.
        .target(name: "Commands", dependencies: [
            "BSON", "Query", "Storage", "Auth",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
        ]),

        // SQLite from the system; only SQLiteStorage imports it.
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // CRC-32C for stored-document checksums (SSE4.2 crc32 instruction, table fallback);
        // only SQLiteStorage imports it.
        // Optimized even in debug builds, so tests and debug daemons pay the checksum's real cost.
        .target(name: "CChecksum", cSettings: [.unsafeFlags(["-O2"])]),
        .target(name: "SQLiteStorage", dependencies: [
            "BSON", "Query", "Storage", "Executors", "CSQLite", "CChecksum",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // An in-memory engine on the same protocol: the second engine that keeps the storage
        // conformance suite honest, and the storage of tests that need no disk.
        .target(name: "MemoryStorage", dependencies: [
            "BSON", "Query", "Storage",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // The PostgreSQL engine (postgres-nio's pooled client): several stateless daemons on one
        // database. Only this module speaks SQL to PostgreSQL.
        .target(name: "PostgresStorage", dependencies: [
            "BSON", "Query", "Storage", "MongoErrors", "Executors",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // NIO server: connections, framing, cursors' lifetime.
        .target(name: "Server", dependencies: [
            "BSON", "Wire", "Compression", "Commands", "Storage", "Executors",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // The HTTP gateway: a second front end (Hummingbird 2) on the same storage engine; serves,
        // uploads and lists GridFS files with ranges and caching. Knows no commands and no wire protocol.
        .target(name: "HTTPGateway", dependencies: [
            "BSON", "Query", "Storage",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        .executableTarget(name: "gridlite", dependencies: [
            "Server", "HTTPGateway", "Compression", "SQLiteStorage", "PostgresStorage", "Commands", "Storage", "Executors", "Auth",
            "Wire", "BSON",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            // the operator commands' --uri client over TLS (WireTransport)
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOTLS", package: "swift-nio"),
        ]),

        // In-memory stand-in server for `make bench` (the throughput ceiling); not part of gridlite.
        .executableTarget(name: "gridlite-ceiling", dependencies: [
            "Wire", "BSON",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),

        // Fuzzing (test-only, never linked into gridlite): the harnesses live in FuzzSupport so the
        // regression test replays saved inputs through the same code; the two executables are
        // libFuzzer targets under `make fuzz` (-D FUZZING -sanitize=fuzzer,address) and replay tools
        // otherwise. See docs/reliability.md.
        .target(name: "FuzzSupport", dependencies: [
            "BSON", "Wire", "Compression", "Auth", "Query", "Commands", "Storage", "SQLiteStorage", "Server", "Executors",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "FuzzWire", dependencies: ["FuzzSupport"]),
        .executableTarget(name: "FuzzCommands", dependencies: ["FuzzSupport"]),
        // Storage-free targets (thousands of inputs per second): BSON decode/re-encode, framing and
        // parsing, the query engine in memory.
        .executableTarget(name: "FuzzBSON", dependencies: ["FuzzSupport"]),
        .executableTarget(name: "FuzzFrames", dependencies: ["FuzzSupport"]),
        .executableTarget(name: "FuzzQuery", dependencies: ["FuzzSupport"]),

        // Helpers shared by test targets (a deterministic RNG); never linked into the product.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "BSONTests", dependencies: ["BSON", "TestSupport"]),
        .testTarget(name: "WireTests", dependencies: [
            "Wire", "BSON",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOTestUtils", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
        .testTarget(name: "CompressionTests", dependencies: [
            "Compression", "Wire", "BSON", "TestSupport", "CZstd",
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .testTarget(name: "AuthTests", dependencies: ["Auth", "BSON"]),
        .testTarget(name: "QueryTests", dependencies: ["Query", "BSON", "TestSupport"]),
        .testTarget(name: "ExecutorsTests", dependencies: ["Executors"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "Query", "BSON"]),
        .testTarget(name: "SQLiteStorageTests", dependencies: ["SQLiteStorage", "Storage", "Executors", "Query", "BSON", "CChecksum"]),
        .testTarget(name: "FuzzTests", dependencies: ["FuzzSupport", "BSON"]),
        // The checks every storage engine must pass, written once against `StorageEngine`
        // (a library, so a later engine's test target runs the same checks).
        .target(name: "StorageConformance", dependencies: ["Storage", "Query", "BSON"], path: "Tests/StorageConformance"),
        .testTarget(name: "StorageConformanceTests", dependencies: [
            "StorageConformance", "Storage", "SQLiteStorage", "MemoryStorage", "PostgresStorage", "BSON",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .testTarget(name: "CommandsTests", dependencies: [
            "Commands", "Storage", "Executors", "BSON", "SQLiteStorage", "MemoryStorage",
            .product(name: "MetricsTestKit", package: "swift-metrics"),
        ]),
        .testTarget(name: "HTTPGatewayTests", dependencies: [
            "HTTPGateway", "Storage", "MemoryStorage", "SQLiteStorage", "BSON",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // The real NIO server in process on a free port, driven by a raw wire client.
        .testTarget(name: "ServerTests", dependencies: [
            "Server", "Commands", "SQLiteStorage", "Executors", "BSON",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
