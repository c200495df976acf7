/// How the server a fuzz input talks to is set up, read from one byte of the input (so the fuzzer
/// mutates it like any other byte, and a saved input replays in the same set-up):
///
/// - `0x80` ``auth``: `--auth` (commands need an authenticated user with the right roles);
/// - `0x40` ``rootUser``: `admin.system.users` holds ``Grammar/rootUser`` (role `root`), so a SCRAM
///   conversation finds a user (the wire target; the command target's fixture always has it);
/// - `0x20` ``authenticated``: the connection starts logged in as that user (with ``rootUser``);
/// - `0x10` ``testCommands``: `--setParameter enableTestCommands=1` (`configureFailPoint`).
///
/// The wire target reads the low byte of the first frame's `responseTo` (bytes 8–11 of the input,
/// which a server ignores in a request, 0 in recorded traffic: recorded seeds run as `gridlite serve`
/// does by default); the command target reads the high bits of its first byte (the low two pick
/// the number of commands).
public struct FuzzMode: Sendable, Hashable, CustomStringConvertible {
    /// `--auth`.
    public var auth: Bool
    /// The store holds the user ``Grammar/rootUser``.
    public var rootUser: Bool
    /// The connection starts authenticated as ``Grammar/rootUser``.
    public var authenticated: Bool
    /// Test commands are enabled.
    public var testCommands: Bool

    /// The mode a byte selects.
    public init(byte: UInt8) {
        auth = byte & 0x80 != 0
        rootUser = byte & 0x40 != 0 || byte & 0x20 != 0
        authenticated = byte & 0x20 != 0
        testCommands = byte & 0x10 != 0
    }

    /// The byte that selects this mode.
    public var byte: UInt8 {
        (auth ? 0x80 : 0) | (rootUser ? 0x40 : 0) | (authenticated ? 0x20 : 0) | (testCommands ? 0x10 : 0)
    }

    /// `gridlite serve` with no options: no authentication, no test commands, no users.
    public static let plain = FuzzMode(byte: 0)

    /// The mode of a wire input: the low byte of its first frame's `responseTo`.
    public static func wire(_ bytes: [UInt8]) -> FuzzMode {
        bytes.count > 8 ? FuzzMode(byte: bytes[8]) : .plain
    }

    public var description: String {
        var parts: [String] = []
        if auth { parts.append("--auth") }
        if authenticated { parts.append("logged in as \(Grammar.rootUser)") } else if rootUser { parts.append("user \(Grammar.rootUser)") }
        if testCommands { parts.append("enableTestCommands") }
        return parts.isEmpty ? "plain" : parts.joined(separator: ", ")
    }
}
