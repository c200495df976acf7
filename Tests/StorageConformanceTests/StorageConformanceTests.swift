import Foundation
import Logging
import MemoryStorage
import SQLiteStorage
import Storage
import StorageConformance
import Testing

/// The engines under test: each opened once and shared by every check (each check uses its own
/// database).
enum EngineUnderTest: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case memory

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
        }
    }
}

extension ConformanceCheck: CustomTestStringConvertible {
    public var testDescription: String { name }
}

/// Every storage conformance check against every engine.
@Suite struct StorageConformanceTests {
    @Test(arguments: EngineUnderTest.allCases, StorageConformance.checks)
    func conformance(engine: EngineUnderTest, check: ConformanceCheck) async throws {
        try await check.run(try await engine.engine())
    }
}
