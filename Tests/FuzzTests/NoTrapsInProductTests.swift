import Foundation
import Testing

/// The product never traps on what a client sends: its sources (every module under `Sources/`
/// except the fuzz harness and the fuzz executables, which are never linked into `gridlite`) hold
/// no `fatalError`, `try!`, `precondition`, `preconditionFailure`, `assertionFailure` or
/// `unsafelyUnwrapped`. In `FuzzSupport` a `fatalError` is the fuzzer's oracle: it stops the run so
/// libFuzzer keeps the input.
@Suite struct NoTrapsInProductTests {
    static let sources = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources")

    static let traps = ["fatalError(", "try!", "precondition(", "preconditionFailure(", "assertionFailure(", "unsafelyUnwrapped"]

    /// Every `.swift` file of the product's modules (not `Fuzz*`), by path relative to `Sources/`.
    static func productFiles() throws -> [String] {
        let modules = try FileManager.default.contentsOfDirectory(atPath: sources.path).filter { !$0.hasPrefix("Fuzz") }
        var files: [String] = []
        for module in modules {
            let root = sources.appendingPathComponent(module)
            guard let walker = FileManager.default.enumerator(atPath: root.path) else { continue }
            while let path = walker.nextObject() as? String {
                if path.hasSuffix(".swift") { files.append(module + "/" + path) }
            }
        }
        return files.sorted()
    }

    @Test func productSourcesHaveNoTraps() throws {
        let files = try Self.productFiles()
        #expect(files.count > 100, "found \(files.count) product sources under \(Self.sources.path)")
        var found: [String] = []
        for file in files {
            let text = try String(contentsOf: Self.sources.appendingPathComponent(file), encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.trimmingCharacters(in: .whitespaces)
                if code.hasPrefix("//") { continue }  // doc comments may name them
                for trap in Self.traps where code.contains(trap) {
                    found.append("\(file):\(number + 1): \(trap)")
                }
            }
        }
        #expect(found.isEmpty, "traps in product sources:\n\(found.joined(separator: "\n"))")
    }

    @Test func productModulesDoNotImportTheFuzzHarness() throws {
        var found: [String] = []
        for file in try Self.productFiles() {
            let text = try String(contentsOf: Self.sources.appendingPathComponent(file), encoding: .utf8)
            if text.contains("import FuzzSupport") { found.append(file) }
        }
        #expect(found.isEmpty, "\(found)")
    }
}
