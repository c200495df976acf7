import BSON
import Synchronization

/// The server's fail points (only `failCommand` so far), set by `configureFailPoint` and evaluated
/// by the dispatcher for every command (the single observation point). Shared by all connections;
/// a mutex keeps mode changes and the count-downs of `{times: n}` / `{skip: n}` exact under
/// concurrent commands.
public final class FailPointRegistry: Sendable {
    /// The fail points gridlite has.
    public static let names: Set<String> = ["failCommand"]

    private struct State {
        var mode: FailPointMode = .off
        var data = FailCommandData(BSONDocument())
        var timesEntered: Int64 = 0
    }

    private let state = Mutex(State())

    /// A registry with every fail point off.
    public init() {}

    /// Sets a fail point's mode and data; returns how often it had fired before (mongod's `count`).
    /// An unknown name is 266 FailPointSetFailed.
    public func configure(_ name: String, mode: FailPointMode, data: BSONDocument) throws(CommandError) -> Int64 {
        guard FailPointRegistry.names.contains(name) else {
            throw CommandError(code: 266, codeName: "FailPointSetFailed", message: "\(name) not found")
        }
        let parsed = FailCommandData(data)
        return state.withLock { s in
            s.mode = mode
            s.data = parsed
            return s.timesEntered
        }
    }

    /// True when the fail point may fire (a cheap check before building a target).
    public var isActive: Bool { state.withLock { $0.mode != .off } }

    /// Decides whether `failCommand` fires on a command; counting (`times`, `skip`,
    /// `timesEntered`) advances only when the command matches the data's filters.
    public func evaluate(_ target: FailPointTarget) -> FailCommandAction? {
        state.withLock { s in
            guard s.mode != .off, s.data.hasEffect, s.data.matches(target) else { return nil }
            let (fires, next) = s.mode.next(random: { Double.random(in: 0..<1) })
            s.mode = next
            guard fires else { return nil }
            s.timesEntered &+= 1
            return FailCommandAction(data: s.data)
        }
    }

    /// The fail point's state as mongod lists it (`mode`, `data`, `timesEntered`).
    public func describe(_ name: String) -> BSONDocument? {
        guard FailPointRegistry.names.contains(name) else { return nil }
        return state.withLock { s in
            ["mode": s.mode.document, "data": .document(s.data.document), "timesEntered": .int64(s.timesEntered)]
        }
    }
}
