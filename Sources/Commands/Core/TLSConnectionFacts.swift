/// What a TLS connection negotiated, for `currentOp` and the connection's log lines.
public struct TLSConnectionFacts: Sendable, Hashable {
    /// The protocol version, as mongod names it (`TLS1_2`, `TLS1_3`).
    public let version: String
    /// The client certificate's subject, when the client presented one (it was verified).
    public let clientCertificateSubject: String?

    /// Creates the facts.
    public init(version: String, clientCertificateSubject: String?) {
        self.version = version
        self.clientCertificateSubject = clientCertificateSubject
    }
}
