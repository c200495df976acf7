import BSON
import NIOCore

/// Checked readers for wire-message fields. Each one either consumes exactly its field or throws,
/// naming `what` it was reading in the error.
extension ByteBuffer {
    /// Reads a little-endian int32.
    mutating func readWireInt32(_ what: String) throws(WireProtocolError) -> Int32 {
        guard let value = readInteger(endianness: .little, as: Int32.self) else {
            throw WireProtocolError(.truncated, "message ends inside \(what) (needs 4 bytes, \(readableBytes) left)")
        }
        return value
    }

    /// Reads a little-endian uint32.
    mutating func readWireUInt32(_ what: String) throws(WireProtocolError) -> UInt32 {
        guard let value = readInteger(endianness: .little, as: UInt32.self) else {
            throw WireProtocolError(.truncated, "message ends inside \(what) (needs 4 bytes, \(readableBytes) left)")
        }
        return value
    }

    /// Reads a little-endian int64.
    mutating func readWireInt64(_ what: String) throws(WireProtocolError) -> Int64 {
        guard let value = readInteger(endianness: .little, as: Int64.self) else {
            throw WireProtocolError(.truncated, "message ends inside \(what) (needs 8 bytes, \(readableBytes) left)")
        }
        return value
    }

    /// Reads a zero-terminated UTF-8 string and its terminator. A string that is terminated but
    /// not UTF-8 throws `badUTF8` after consuming it (so parsing may go on).
    mutating func readWireCString(_ what: String, badUTF8: WireProtocolError.Kind = .invalidCString) throws(WireProtocolError) -> String {
        let terminator = withUnsafeReadableBytes { $0.firstIndex(of: 0) }
        guard let length = terminator, let bytes = readBytes(length: length) else {
            throw WireProtocolError(.invalidCString, "\(what) is not terminated by a zero byte")
        }
        moveReaderIndex(forwardBy: 1)
        let string = String(decoding: bytes, as: UTF8.self)
        guard string.utf8.elementsEqual(bytes) else {
            throw WireProtocolError(badUTF8, "\(what) is not valid UTF-8")
        }
        return string
    }

    /// Reads one BSON document whose int32 length prefix must fit in the readable bytes, and
    /// validates it. A length that runs past the end throws `overrun`.
    mutating func readWireDocument(
        _ what: String, overrun: WireProtocolError.Kind = .sectionOverrun
    ) throws(WireProtocolError) -> BSONDocument {
        guard let declared = getInteger(at: readerIndex, endianness: .little, as: Int32.self) else {
            throw WireProtocolError(overrun, "\(what) runs past the end of its container (\(readableBytes) bytes left)")
        }
        guard declared >= 5 else {
            throw WireProtocolError(.invalidDocument, "\(what) declares length \(declared), below the BSON minimum of 5")
        }
        guard Int(declared) <= readableBytes, let bytes = readBytes(length: Int(declared)) else {
            throw WireProtocolError(
                overrun, "\(what) declares \(declared) bytes but only \(readableBytes) remain in its container"
            )
        }
        do {
            return try BSONDocument(validating: bytes)
        } catch {
            throw WireProtocolError(.invalidBSON, "\(what) is not valid BSON: \(error)")
        }
    }

    /// Appends a zero-terminated string.
    mutating func writeWireCString(_ string: String) {
        writeBytes(string.utf8)
        writeInteger(UInt8(0))
    }

    /// Appends a document's bytes.
    mutating func writeDocument(_ document: BSONDocument) {
        writeBytes(document.bytes)
    }
}
