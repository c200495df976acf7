import Foundation

/// `manifest.json`, written last into a backup directory: a backup without it is incomplete and
/// `gridlite restore` refuses it. Lists the snapshot's database file and every segment file with
/// the bytes that belong to the snapshot, and the result of the fsck of the copy.
public struct BackupManifest: Codable, Sendable {
    /// One segment file of the snapshot.
    public struct Segment: Codable, Sendable {
        /// Segment id (file `blobs/<id>.seg`).
        public var id: Int64
        /// Bytes of it in the backup.
        public var bytes: Int64
        /// True when the segment was sealed in the snapshot (it never changes again, so an
        /// incremental backup may keep the copy it already has).
        public var sealed: Bool
        /// False when an incremental backup kept the copy from the previous run.
        public var copied: Bool
    }

    /// Layout version of the backup directory.
    public var format = 1
    /// When the snapshot was taken (ISO 8601).
    public var createdAt: String
    /// The data directory backed up.
    public var source: String
    /// `online` (a daemon was serving) or `offline`.
    public var mode: String
    /// gridlite's schema version of the database file.
    public var schemaVersion: Int
    /// Bytes of `gridlite.sqlite` in the backup.
    public var databaseBytes: Int64
    /// The segment files.
    public var segments: [Segment]
    /// Bytes written by this run (database + segments copied).
    public var bytesCopied: Int64
    /// Seconds the backup took, verification included.
    public var seconds: Double
    /// The fsck of the copy found nothing wrong.
    public var verified: Bool
    /// Documents the fsck of the copy checked.
    public var documentsVerified: Int
    /// Problems that fsck found (0 when verified).
    public var problems: Int
    /// Chunks of uploads in flight at the snapshot (no files document yet), left out of the copy.
    public var inFlightChunks: Int? = nil

    /// The manifest's file name inside a backup directory.
    public static let fileName = "manifest.json"

    /// Reads `<directory>/manifest.json`, nil when absent or unreadable.
    public static func load(_ directory: String) -> BackupManifest? {
        guard let data = FileManager.default.contents(atPath: (directory as NSString).appendingPathComponent(fileName)) else { return nil }
        return try? JSONDecoder().decode(BackupManifest.self, from: data)
    }

    /// Writes the manifest durably: a temporary file, fsync, rename, fsync of the directory.
    func write(_ directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(self)
        let path = (directory as NSString).appendingPathComponent(Self.fileName)
        try FileCopy.writeDurably(data, to: path)
    }
}
