import Foundation
import FuzzSupport
import Testing

/// Replays every saved fuzz input (the crashes the campaign found, and the seed corpus) through
/// the harness libFuzzer runs, without the fuzzer: a fixed bug that comes back crashes this test.
/// Serialized: the harnesses share one store, which an input empties when it is done.
@Suite(.serialized) struct RegressionCorpusTests {
    /// `Fuzz/` at the repository root.
    static let fuzzDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    static func inputs(_ kind: String, _ target: String) -> [URL] {
        let dir = fuzzDirectory.appendingPathComponent(kind).appendingPathComponent(target)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { dir.appendingPathComponent($0) }
    }

    @Test(arguments: ["regressions", "seeds"])
    func wireInputs(kind: String) async throws {
        let files = Self.inputs(kind, "wire")
        if kind == "seeds" { #expect(!files.isEmpty, "no seed inputs in Fuzz/seeds/wire") }
        for file in files {
            await WireFuzzHarness.runAsync([UInt8](try Data(contentsOf: file)))
        }
    }

    @Test(arguments: ["regressions", "seeds"])
    func commandInputs(kind: String) async throws {
        let files = Self.inputs(kind, "commands")
        if kind == "seeds" { #expect(!files.isEmpty, "no seed inputs in Fuzz/seeds/commands") }
        for file in files {
            await CommandFuzzHarness.runAsync([UInt8](try Data(contentsOf: file)))
        }
    }

    /// The storage-free targets: their own seeds and regressions, and the inputs of the target whose
    /// format they share (frames reads wire inputs, query reads grammar choices as commands does).
    @Test(arguments: [
        ("bson", ["bson"]), ("frames", ["frames", "wire"]), ("query", ["query", "commands"]),
    ])
    func storageFreeInputs(target: String, sources: [String]) throws {
        let harness: ([UInt8]) -> Void = switch target {
        case "bson": BSONFuzzHarness.run
        case "frames": FrameFuzzHarness.run
        default: QueryFuzzHarness.run
        }
        var count = 0
        for kind in ["regressions", "seeds"] {
            for source in sources {
                for file in Self.inputs(kind, source) {
                    harness([UInt8](try Data(contentsOf: file)))
                    count += 1
                }
            }
        }
        #expect(count > 0, "no inputs for \(target)")
        if target == "bson" { #expect(Self.inputs("seeds", "bson").count > 1000, "Fuzz/seeds/bson: run Fuzz/make_bson_seeds.py") }
    }

    @Test func grammarIsTotalAndDeterministic() {
        // Any bytes decode to a command; the same bytes to the same command.
        for seed in 0..<200 {
            let bytes = (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed &* 17) }
            var first = Grammar(bytes)
            var second = Grammar(bytes)
            #expect(first.command() == second.command())
        }
        var empty = Grammar([])
        #expect(!empty.command().body.isEmpty)
    }
}
