#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Logging
import MemoryStorage
import ServiceLifecycle
import Storage
import Testing
@testable import HTTPGateway

/// A stand-in for the server's users (the security work plugs its SCRAM users in through the same
/// protocol): `reader` may read `t`, `writer` may read and write it.
struct StubVerifier: HTTPCredentialVerifier {
    func authorize(username: String, password: String, access: HTTPAccess, client: String) async -> HTTPAuthorization {
        guard password == "secret", username == "reader" || username == "writer" else { return .unauthenticated }
        switch access {
        case .server, .read(database: "t"): return .allowed
        case .write(database: "t"): return username == "writer" ? .allowed : .forbidden
        default: return .forbidden
        }
    }
}

/// The gateway on a free port in process, with the stub verifier, driven over a real socket.
@Suite(.serialized) struct AuthenticationSeamTests {
    /// Sends one HTTP/1.1 request (`Connection: close`) and returns the status and the raw response.
    static func exchange(port: Int, _ request: String) async -> (Int, String) {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                var addr = sockaddr_in()
                addr.sin_family = sa_family_t(AF_INET)
                addr.sin_port = in_port_t(UInt16(port).bigEndian)
                addr.sin_addr.s_addr = inet_addr("127.0.0.1")
                let connected = withUnsafePointer(to: &addr) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                guard connected == 0 else { close(fd); continuation.resume(returning: (0, "connect failed")); return }
                let bytes = Array(request.utf8)
                _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
                var response: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 65536)
                while true {
                    let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    if n <= 0 { break }
                    response += buffer[0..<n]
                }
                close(fd)
                let text = String(decoding: response, as: UTF8.self)
                let status = text.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
                continuation.resume(returning: (status, text))
            }
        }
    }

    static func request(_ method: String, _ path: String, user: String? = nil, body: String = "") -> String {
        var r = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n"
        if let user {
            r += "Authorization: Basic \(Array(user.utf8).base64Encoded())\r\n"
        }
        return r + "\r\n" + body
    }

    @Test func basicCredentialsAreCheckedPerAccess() async throws {
        let storage = MemoryStorageEngine()
        let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
        let gateway = HTTPGateway(
            storage: storage, settings: GatewaySettings(port: 0, verifier: StubVerifier()),
            logger: Logger(label: "test"), metricsText: { "" }, onListening: { portContinuation.yield($0) })
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [.init(service: gateway)], logger: Logger(label: "test")))
        let running = Task { try await group.run() }
        var ports = portStream.makeAsyncIterator()
        let port = try #require(await ports.next())

        let (anonymous, text) = await Self.exchange(port: port, Self.request("GET", "/t/fs/"))
        #expect(anonymous == 401)
        #expect(text.contains("WWW-Authenticate: Basic realm=\"gridlite\""))
        #expect(await Self.exchange(port: port, Self.request("GET", "/t/fs/", user: "reader:wrong")).0 == 401)
        #expect(await Self.exchange(port: port, Self.request("GET", "/t/fs/", user: "reader:secret")).0 == 200)
        #expect(await Self.exchange(port: port, Self.request("GET", "/other/fs/", user: "reader:secret")).0 == 403)
        #expect(await Self.exchange(port: port, Self.request("PUT", "/t/fs/name/a.txt", user: "reader:secret", body: "x")).0 == 403)
        #expect(await Self.exchange(port: port, Self.request("PUT", "/t/fs/name/a.txt", user: "writer:secret", body: "hello")).0 == 201)
        let (read, content) = await Self.exchange(port: port, Self.request("GET", "/t/fs/name/a.txt", user: "reader:secret"))
        #expect(read == 200 && content.hasSuffix("\r\n\r\nhello"))
        #expect(await Self.exchange(port: port, Self.request("GET", "/metrics")).0 == 401)
        #expect(await Self.exchange(port: port, Self.request("GET", "/livez")).0 == 200)
        #expect(await Self.exchange(port: port, Self.request("GET", "/readyz")).0 == 200)

        await group.triggerGracefulShutdown()
        try await running.value
    }
}

extension Array where Element == UInt8 {
    /// Standard Base64 (for the test's Authorization header).
    func base64Encoded() -> String {
        let table: [Character] = Swift.Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var out = ""
        var i = 0
        while i < count {
            let b0 = self[i], b1 = i + 1 < count ? self[i + 1] : 0, b2 = i + 2 < count ? self[i + 2] : 0
            out.append(table[Int(b0 >> 2)])
            out.append(table[Int((b0 & 3) << 4 | b1 >> 4)])
            out.append(i + 1 < count ? table[Int((b1 & 15) << 2 | b2 >> 6)] : "=")
            out.append(i + 2 < count ? table[Int(b2 & 63)] : "=")
            i += 3
        }
        return out
    }
}
