import HTTPTypes

/// An HTTP error the gateway answers with `{"error": ..., "code": ...}` and its status.
public struct GatewayError: Error, Sendable, CustomStringConvertible {
    /// The status to send.
    public var status: HTTPResponse.Status
    /// A one-line message for the client.
    public var message: String

    /// Creates an error.
    public init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status.code) \(message)" }
}
