import Foundation

/// Runs saved inputs through a harness outside libFuzzer: the fuzz executables' `main` in a normal
/// build (`FuzzWire Fuzz/regressions/wire/*`), so a crash reproduces under a debugger too.
public enum FuzzReplay {
    /// Runs `harness` on every file named in `arguments` (directories: every file inside, sorted).
    public static func main(arguments: [String], harness: ([UInt8]) -> Void) -> Int32 {
        var files: [String] = []
        for path in arguments {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("no such file: \(path)\n".utf8))
                return 1
            }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.sorted().filter { !$0.hasPrefix(".") }.map { (path as NSString).appendingPathComponent($0) }
            } else {
                files.append(path)
            }
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                FileHandle.standardError.write(Data("cannot read \(file)\n".utf8))
                return 1
            }
            harness([UInt8](data))
            print("ok \(file) (\(data.count) bytes)")
        }
        return 0
    }
}
