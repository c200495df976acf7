import BSON
import Foundation
import Synchronization

/// The process's cluster time, as mongod's vector clock ticks it for a standalone server: a
/// `Timestamp(seconds, increment)` that never repeats and never goes backwards, even when the
/// wall clock does. mongod writes it where a client sent the "empty timestamp" `Timestamp(0, 0)`
/// (see ``replacingEmptyTimestamps(in:)``) and for `$currentDate: {$type: "timestamp"}`.
public enum LogicalClock {
    private static let last = Mutex(BSONTimestamp(time: 0, increment: 0))

    /// The next timestamp: the current second with increment 1, or the previous timestamp's
    /// increment plus one while the second has not moved on (or the wall clock went back).
    public static func tick(now: Date = Date()) -> BSONTimestamp {
        let seconds = now.timeIntervalSince1970
        let wall: UInt32
        if seconds.isFinite && seconds > 0 {
            wall = seconds < 4_294_967_295.0 ? UInt32(seconds.rounded(.down)) : .max
        } else {
            wall = 0
        }
        return last.withLock { previous in
            var next: BSONTimestamp
            if wall > previous.time {
                next = BSONTimestamp(time: wall, increment: 1)
            } else if previous.increment < UInt32.max {
                next = BSONTimestamp(time: previous.time, increment: previous.increment &+ 1)
            } else {
                // 4 billion ticks in one second: borrow the next second, as mongod does.
                next = BSONTimestamp(time: previous.time &+ 1, increment: 1)
            }
            previous = next
            return next
        }
    }

    /// mongod's "empty timestamp" rule (`fixDocumentForInsert` for inserts, the replacement
    /// executor for replacement-style updates and upserts): every **top-level** field other than
    /// `_id` holding `Timestamp(0, 0)` gets the next cluster time. Nested timestamps, `_id`, and
    /// operator updates (`$set`, `$setOnInsert`) are left alone; `bypassEmptyTsReplacement: true`
    /// on the command turns the rule off. Nil when `doc` holds no such field.
    public static func replacingEmptyTimestamps(in doc: BSONDocument) -> BSONDocument? {
        guard doc.elements.contains(where: isEmptyTimestamp) else { return nil }
        var out = BSONDocument()
        for e in doc.elements {
            if isEmptyTimestamp(e) {
                out.append(e.key, .timestamp(tick()))
            } else {
                out.append(raw: e)
            }
        }
        return out
    }

    private static func isEmptyTimestamp(_ e: BSONElement) -> Bool {
        guard e.type == .timestamp, e.key != "_id" else { return false }
        return e.rawValue.allSatisfy { $0 == 0 }
    }
}

extension UpdateSpec {
    /// The same update with ``LogicalClock/replacingEmptyTimestamps(in:)`` applied to its
    /// replacement document (mongod's replacement executor does it when the update is parsed);
    /// operator updates are returned unchanged.
    public func replacingEmptyTimestamps() throws -> UpdateSpec {
        guard let replacement, let fixed = LogicalClock.replacingEmptyTimestamps(in: replacement) else { return self }
        return try UpdateSpec(fixed)
    }
}
