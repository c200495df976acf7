import Synchronization

/// Process-wide counts of damaged data a storage engine found while reading (a stored checksum
/// that does not match, a payload that cannot be read back). `serverStatus` reports them under
/// `integrity`; each event is also logged by the engine that found it.
public enum DataIntegrity {
    private static let corruptions = Atomic<Int>(0)

    /// Counts one damaged document found (and refused) by a read.
    public static func recordCorruption() {
        corruptions.add(1, ordering: .relaxed)
    }

    /// Damaged documents found since the process started.
    public static var corruptionsDetected: Int {
        corruptions.load(ordering: .relaxed)
    }
}
