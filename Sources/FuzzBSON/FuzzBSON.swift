import FuzzSupport

#if FUZZING
/// libFuzzer's entry point (`make fuzz` builds this file with `-D FUZZING -sanitize=fuzzer,address`;
/// libFuzzer supplies `main`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBSONTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    BSONFuzzHarness.run(UnsafeBufferPointer(start: data, count: size))
    return 0
}
#else
import Foundation

/// Without the fuzzer: replays the input files given as arguments through the same harness.
@main
struct FuzzBSONReplay {
    static func main() {
        exit(FuzzReplay.main(arguments: Array(CommandLine.arguments.dropFirst()), harness: BSONFuzzHarness.run))
    }
}
#endif
