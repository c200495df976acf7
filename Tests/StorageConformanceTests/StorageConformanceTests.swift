import Foundation
import Logging
import MemoryStorage
import PostgresStorage
import SQLiteStorage
import Storage
import StorageConformance
import Testing

/// The engines under test: each opened once and shared by every check (each check uses its own
/// database). PostgreSQL joins when `GRIDLITE_TEST_POSTGRES_URL` names a database (`make test`
/// starts a throw-away cluster, see IntegrationTests/postgres/pgcluster.sh).
enum EngineUnderTest: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case memory
    case postgresql

    /// The engines this run can reach.
    static var available: [EngineUnderTest] {
        postgresURL == nil ? [.sqlite, .memory] : allCases
    }

    private static var postgresURL: String? {
        ProcessInfo.processInfo.environment["GRIDLITE_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    private static let postgresEngine: Task<PostgresStorageEngine, any Error> = Task {
        guard let text = postgresURL else { throw PostgresURLError.missing }
        return try await PostgresStorageEngine.open(url: try PostgresURL(text), logger: Logger(label: "conformance"))
    }

    var testDescription: String { rawValue }

    private static let sqliteEngine: Task<SQLiteStorageEngine, any Error> = Task {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gridlite-conformance-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return try await SQLiteStorageEngine.open(directory: dir.path, logger: Logger(label: "conformance"))
    }

    private static let memoryEngine = MemoryStorageEngine()

    func engine() async throws -> any StorageEngine {
        switch self {
        case .sqlite: return try await Self.sqliteEngine.value
        case .memory: return Self.memoryEngine
        case .postgresql: return try await Self.postgresEngine.value
        }
    }
}

extension ConformanceCheck: CustomTestStringConvertible {
    public var testDescription: String { name }
}

/// Every storage conformance check against every engine.
@Suite struct StorageConformanceTests {
    @Test(arguments: EngineUnderTest.available, StorageConformance.checks)
    func conformance(engine: EngineUnderTest, check: ConformanceCheck) async throws {
        try await check.run(try await engine.engine())
    }
}
