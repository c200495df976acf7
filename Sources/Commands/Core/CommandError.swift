import BSON
import Storage

/// A command failure, answered as `{ok: 0, errmsg, code, codeName}` (the shared ``MongoError``).
public typealias CommandError = MongoError

extension MongoError {
    /// A required field is missing.
    public static func missingField(_ field: String, in command: String) -> MongoError {
        MongoError(.location40414, "BSON field '\(command).\(field)' is missing but a required field")
    }

    /// A field has the wrong BSON type.
    public static func wrongType(_ field: String, in command: String, expected: String, got: BSONType) -> MongoError {
        MongoError(.typeMismatch, "BSON field '\(command).\(field)' is the wrong type '\(got.alias)', expected type '\(expected)'")
    }
}
