import BSON
import Foundation

/// `hostInfo`: facts about the machine the daemon runs on.
public enum HostInfoCommand: CommandHandler {
    public static let names = ["hostInfo"]
    public static let help = "Reports the host's hardware and operating system."
    public static let parameters = ParameterSpec.lenient

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let info = ProcessInfo.processInfo
        #if arch(x86_64)
        let arch = "x86_64"
        #elseif arch(arm64)
        let arch = "aarch64"
        #else
        let arch = "unknown"
        #endif
        return [
            "system": .document([
                "currentTime": Date().bsonDate,
                "hostname": .string(context.environment.hostName),
                "cpuAddrSize": .int32(64),
                "memSizeMB": .int64(Int64(info.physicalMemory / 1024 / 1024)),
                "numCores": .int32(Int32(clamping: info.processorCount)),
                "cpuArch": .string(arch),
            ]),
            "os": .document([
                "type": .string(osType),
                "name": .string(osName()),
                "version": .string(info.operatingSystemVersionString),
            ]),
            "extra": .document([:]),
        ]
    }

    static var osType: String {
        #if os(Linux)
        return "Linux"
        #else
        return "Darwin"
        #endif
    }

    /// PRETTY_NAME from /etc/os-release, when present.
    static func osName() -> String {
        guard let text = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8) else { return osType }
        for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            return line.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return osType
    }
}
