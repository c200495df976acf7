/// What the gateway is told at start-up (`--http-*` options).
public struct GatewaySettings: Sendable {
    /// Address to bind.
    public var host: String
    /// Port to bind (0: any free port).
    public var port: Int
    /// `Cache-Control` sent with files (nil: none).
    public var cacheControl: String?
    /// The largest upload accepted, in bytes (413 beyond it).
    public var maxUploadBytes: Int64
    /// Chunk size of files uploaded over HTTP (pymongo's default, 255 KiB).
    public var chunkSize: Int
    /// The most chunk bytes one download holds at once.
    public var readBatchBytes: Int
    /// Checks HTTP Basic credentials when authentication is on (nil: no authentication).
    public var verifier: (any HTTPCredentialVerifier)?

    /// Settings with the defaults.
    public init(host: String = "127.0.0.1", port: Int = 27080, cacheControl: String? = nil,
                maxUploadBytes: Int64 = 16 << 30, chunkSize: Int = 255 * 1024, readBatchBytes: Int = 2 << 20,
                verifier: (any HTTPCredentialVerifier)? = nil) {
        self.host = host
        self.port = port
        self.cacheControl = cacheControl
        self.maxUploadBytes = maxUploadBytes
        self.chunkSize = chunkSize
        self.readBatchBytes = readBatchBytes
        self.verifier = verifier
    }
}
