import ArgumentParser
import HTTPGateway
import Logging
import Storage

/// The HTTP gateway's options (`gridlite serve --http-*`), kept out of Serve.swift.
struct HTTPOptions: ParsableArguments {
    /// The gateway's default port.
    static let defaultPort = 27080

    @Option(name: .customLong("http-host"), help: "Address the HTTP gateway listens on.")
    var httpHost: String = "127.0.0.1"

    @Option(name: .customLong("http-port"),
            help: "HTTP gateway port, 0-65535 (0 picks a free port; default 27080, skipped with a warning when taken).")
    var httpPort: Int?

    @Flag(name: .customLong("no-http"), help: "Do not start the HTTP gateway.")
    var noHTTP = false

    @Option(name: .customLong("http-cache-control"), help: "Cache-Control header sent with files (default: none).")
    var cacheControl: String?

    @Option(name: .customLong("http-max-upload-bytes"), help: "Largest HTTP upload accepted, in bytes (413 beyond).")
    var maxUploadBytes: Int64 = 16 << 30

    /// One-line errors for values out of range.
    func check() {
        if let p = httpPort, !(0...65535).contains(p) { Serve.fail("--http-port \(p) is out of range (0-65535)") }
        if maxUploadBytes < 0 { Serve.fail("--http-max-upload-bytes \(maxUploadBytes) must be 0 or more") }
        if let c = cacheControl, c.contains(where: { $0.isNewline }) { Serve.fail("--http-cache-control must be one line") }
    }

    /// The gateway to run, or nil when it is off (or the default port is taken, with a warning).
    /// An explicitly requested port that is taken is a one-line error.
    func makeGateway(storage: any StorageEngine, logger: Logger, verifier: (any HTTPCredentialVerifier)? = nil,
                     executor: (any TaskExecutor)? = nil,
                     metricsText: @escaping @Sendable () async -> String) -> HTTPGateway? {
        if noHTTP { return nil }
        check()
        let port = httpPort ?? Self.defaultPort
        if port != 0 && !HTTPGateway.canBind(host: httpHost, port: port) {
            if httpPort == nil {
                logger.warning("HTTP gateway not started: \(httpHost):\(port) is in use (choose one with --http-port, or --no-http)")
                return nil
            }
            Serve.fail("cannot listen on \(httpHost):\(port) for HTTP: address already in use")
        }
        if verifier == nil && !Self.isLoopback(httpHost) {
            logger.warning("HTTP gateway on \(httpHost) without authentication: anyone who can reach it can read, upload and delete files")
        }
        let settings = GatewaySettings(host: httpHost, port: port, cacheControl: cacheControl,
                                       maxUploadBytes: maxUploadBytes, verifier: verifier)
        let host = httpHost
        return HTTPGateway(storage: storage, settings: settings, logger: logger, executor: executor,
                           metricsText: metricsText) { bound in
            logger.info("HTTP gateway on http://\(host.contains(":") ? "[\(host)]" : host):\(bound)")
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host.hasPrefix("127.") || host == "::1"
    }
}
