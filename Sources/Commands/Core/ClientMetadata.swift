import BSON

/// The `client` document a driver sends in its first `hello`: application name, driver, operating
/// system. Checked with mongod's rules (size, required fields, types), kept whole for `currentOp`.
public struct ClientMetadata: Sendable, Equatable {
    /// mongod's limit on the whole document (mongos allows 512).
    public static let maxDocumentBytes = 1024
    /// mongod's limit on `application.name`.
    public static let maxApplicationNameBytes = 128

    /// The document as sent.
    public let document: BSONDocument
    /// `application.name` (the connection string's `appName`), if given.
    public let applicationName: String?
    /// `driver.name`, e.g. `PyMongo`.
    public let driverName: String
    /// `driver.version`.
    public let driverVersion: String
    /// `os.type`, e.g. `Linux`.
    public let osType: String

    /// Parses and checks a `client` value as mongod does: a document of at most 1024 bytes with a
    /// `driver` (`name`, `version` strings) and an `os` (`type` string); `application.name`, when
    /// present, a string of at most 128 bytes. Other fields are kept and ignored.
    public init(_ value: BSONValue) throws(CommandError) {
        guard case .document(let doc) = value else {
            throw CommandError(.typeMismatch, "The client metadata document must be a document")
        }
        guard doc.bytes.count <= ClientMetadata.maxDocumentBytes else {
            throw CommandError(
                code: 185, codeName: "ClientMetadataDocumentTooLarge",
                message: "The client metadata document must be less then or equal to \(ClientMetadata.maxDocumentBytes) bytes")
        }
        var appName: String?
        var driver: (name: String, version: String)?
        var os: String?
        for element in doc.elements {
            switch element.key {
            case "application":
                let app = try ClientMetadata.subdocument("application", element.value)
                if let name = app["name"] {
                    guard case .string(let s) = name else { throw ClientMetadata.notString("application.name") }
                    guard s.utf8.count <= ClientMetadata.maxApplicationNameBytes else {
                        throw CommandError(
                            code: 184, codeName: "ClientMetadataAppNameTooLarge",
                            message: "The 'application.name' field must be less then or equal to \(ClientMetadata.maxApplicationNameBytes) bytes in the client metadata document")
                    }
                    appName = s
                }
            case "driver":
                let d = try ClientMetadata.subdocument("driver", element.value)
                let name = try ClientMetadata.requiredString(d, "name", in: "driver")
                let version = try ClientMetadata.requiredString(d, "version", in: "driver")
                driver = (name, version)
            case "os":
                let o = try ClientMetadata.subdocument("os", element.value)
                os = try ClientMetadata.requiredString(o, "type", in: "os")
            default:
                continue
            }
        }
        guard let driver else { throw ClientMetadata.missingSubdocument("driver") }
        guard let os else { throw ClientMetadata.missingSubdocument("os") }
        self.document = doc
        self.applicationName = appName
        self.driverName = driver.name
        self.driverVersion = driver.version
        self.osType = os
    }

    private static func subdocument(_ name: String, _ value: BSONValue) throws(CommandError) -> BSONDocument {
        guard case .document(let d) = value else {
            throw CommandError(.typeMismatch, "The '\(name)' field is required to be a BSON document in the client metadata document")
        }
        return d
    }

    private static func requiredString(_ doc: BSONDocument, _ field: String, in parent: String) throws(CommandError) -> String {
        guard let value = doc[field] else {
            throw CommandError(
                code: 183, codeName: "ClientMetadataMissingField",
                message: "Missing required field '\(parent).\(field)' in the client metadata document")
        }
        guard case .string(let s) = value else { throw notString("\(parent).\(field)") }
        return s
    }

    private static func notString(_ path: String) -> CommandError {
        CommandError(.typeMismatch, "The '\(path)' field must be a string in the client metadata document")
    }

    private static func missingSubdocument(_ name: String) -> CommandError {
        CommandError(
            code: 183, codeName: "ClientMetadataMissingField",
            message: "Missing required sub-document '\(name)' in the client metadata document")
    }
}
