import ArgumentParser
import BSON
import Foundation
import Logging
import Server

/// The TLS options of `gridlite serve`, named as mongod's.
struct TLSOptions: ParsableArguments {
    @Option(name: .customLong("tlsMode"),
            help: "disabled, allowTLS or preferTLS (TLS and plain on the same port), or requireTLS.")
    var mode: String = "disabled"

    @Option(name: .customLong("tlsCertificateKeyFile"),
            help: "PEM file with the server's certificate chain (leaf first) and its private key.")
    var certificateKeyFile: String?

    @Option(name: .customLong("tlsCAFile"),
            help: "PEM file of CAs to verify client certificates; clients must then present one (unless --tlsAllowConnectionsWithoutCertificates).")
    var caFile: String?

    @Flag(name: .customLong("tlsAllowConnectionsWithoutCertificates"),
          help: "With --tlsCAFile: accept clients without a certificate (one that is presented is still verified).")
    var allowConnectionsWithoutCertificates = false

    /// The server's TLS settings, or a one-line error and exit 1 (bad mode, missing or unreadable
    /// file, no certificate or key in it, a key that does not match the certificate).
    func settings() -> TLSServerSettings {
        guard let tlsMode = TLSMode(rawValue: mode) else {
            Serve.fail("--tlsMode '\(mode)' is not one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard tlsMode.servesTLS else {
            if certificateKeyFile != nil || caFile != nil {
                Serve.fail("--tlsCertificateKeyFile and --tlsCAFile need --tlsMode allowTLS, preferTLS or requireTLS")
            }
            return .disabled
        }
        guard let certificateKeyFile else {
            Serve.fail("--tlsMode \(mode) needs --tlsCertificateKeyFile (a PEM file with the certificate and its key)")
        }
        if allowConnectionsWithoutCertificates && caFile == nil {
            Serve.fail("--tlsAllowConnectionsWithoutCertificates needs --tlsCAFile")
        }
        do {
            let store = try TLSContextStore(load: materialLoader(certificateKeyFile: certificateKeyFile))
            return TLSServerSettings(mode: tlsMode, contexts: store)
        } catch {
            Serve.fail("TLS: \(error)")
        }
    }

    /// Reads the files (again on each SIGHUP); errors name the file.
    private func materialLoader(certificateKeyFile: String) -> @Sendable () throws(TLSSetupError) -> TLSMaterial {
        let caFile = caFile
        let allow = allowConnectionsWithoutCertificates
        return { () throws(TLSSetupError) in
            let pem = try TLSOptions.read(certificateKeyFile, option: "--tlsCertificateKeyFile")
            var ca: [UInt8]?
            if let caFile { ca = try TLSOptions.read(caFile, option: "--tlsCAFile") }
            return TLSMaterial(certificateKeyPEM: pem, caPEM: ca, allowConnectionsWithoutCertificates: allow,
                               certificateKeySource: certificateKeyFile, caSource: caFile ?? "")
        }
    }

    /// A file's bytes, or an error naming the option, the path and the cause.
    static func read(_ path: String, option: String) throws(TLSSetupError) -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TLSSetupError("cannot read \(option) \(path): no such file")
        }
        guard !isDirectory.boolValue else { throw TLSSetupError("cannot read \(option) \(path): it is a directory") }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw TLSSetupError("cannot read \(option) \(path): permission denied")
        }
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw TLSSetupError("cannot read \(option) \(path): \(Serve.describe(error))")
        }
    }

    /// The start-up banner's TLS line.
    func describe(_ settings: TLSServerSettings) -> String {
        guard settings.mode.servesTLS, let certificateKeyFile else { return "TLS: disabled (plain connections only)" }
        let clients = caFile == nil ? "client certificates not requested"
            : allowConnectionsWithoutCertificates ? "client certificates verified when presented (\(caFile ?? ""))"
            : "client certificates required (\(caFile ?? ""))"
        return "TLS: \(settings.mode.rawValue), TLS 1.2+, certificate \(certificateKeyFile), \(clients)"
    }

    /// What SIGHUP does: load the certificate files again for new connections (open connections
    /// keep theirs); on failure the old certificate stays and the error is logged.
    static func reloader(_ settings: TLSServerSettings, logger: Logger) -> @Sendable () -> Void {
        guard let contexts = settings.contexts else {
            return { logger.info("SIGHUP: TLS is disabled, nothing to reload") }
        }
        return {
            do {
                try contexts.reload()
                logger.info("SIGHUP: TLS certificate reloaded; new connections use it")
            } catch {
                logger.error("SIGHUP: TLS certificate not reloaded, the previous one stays in use: \(error)")
            }
        }
    }

    /// `net.tls` as `getCmdLineOpts.parsed` shows it.
    var parsedOptions: BSONDocument {
        var tls: BSONDocument = ["mode": .string(mode)]
        if let certificateKeyFile { tls.append("certificateKeyFile", .string(certificateKeyFile)) }
        if let caFile { tls.append("CAFile", .string(caFile)) }
        if allowConnectionsWithoutCertificates { tls.append("allowConnectionsWithoutCertificates", .bool(true)) }
        return tls
    }
}
