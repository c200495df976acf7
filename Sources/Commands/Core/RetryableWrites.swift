import BSON

/// Retryable writes: the last `txnNumber` of each logical session (`lsid`) with the reply its write
/// produced. Drivers send `txnNumber` on writes where retryable writes exist (here: load-balanced
/// mode) and resend the same command after a network error; a resent `txnNumber` gets the stored
/// reply instead of running again (an insert is not applied twice), one still running is waited
/// for, an older one is 225 TransactionTooOld — what mongod's session catalog does for single
/// writes. Kept in memory for the process's life, bounded to ``capacity`` sessions (the oldest
/// finished ones are forgotten first). A failed command (`ok: 0`) is not kept: its retry runs.
public actor RetryableWriteTable {
    /// Sessions remembered at most.
    public static let capacity = 10_000

    /// What the dispatcher should do with a write.
    public enum Decision: Sendable {
        /// Run it, then call ``finish(_:txnNumber:reply:)``.
        case run
        /// Answer with this reply (the write already ran).
        case replay(BSONDocument)
        /// Refuse it: an older transaction number than the session's last.
        case tooOld(last: Int64)
    }

    private enum State {
        case running([CheckedContinuation<Void, Never>])
        case done(BSONDocument)
    }

    private struct Entry {
        var txnNumber: Int64
        var state: State
    }

    private var entries: [[UInt8]: Entry] = [:]
    private var order: [[UInt8]] = []

    /// An empty table.
    public init() {}

    /// Decides a write of session `session` (its `lsid` bytes) with `txnNumber`.
    public func begin(_ session: [UInt8], txnNumber: Int64) async -> Decision {
        while true {
            guard let entry = entries[session] else { break }
            if txnNumber < entry.txnNumber { return .tooOld(last: entry.txnNumber) }
            if txnNumber > entry.txnNumber { break }
            switch entry.state {
            case .done(let reply):
                return .replay(reply)
            case .running:
                // The first attempt is still running (its connection may be gone): wait for it.
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    if case .running(var waiters)? = entries[session]?.state {
                        waiters.append(continuation)
                        entries[session]?.state = .running(waiters)
                    } else {
                        continuation.resume()
                    }
                }
            }
        }
        if entries[session] == nil { order.append(session) }
        entries[session] = Entry(txnNumber: txnNumber, state: .running([]))
        evict()
        return .run
    }

    /// Records the reply of a write that ran (`ok: 1` replies only; a failure is forgotten so that
    /// its retry runs) and wakes any retry waiting for it.
    public func finish(_ session: [UInt8], txnNumber: Int64, reply: BSONDocument) {
        guard let entry = entries[session], entry.txnNumber == txnNumber, case .running(let waiters) = entry.state else { return }
        if reply["ok"] == .double(1) {
            entries[session]?.state = .done(reply)
        } else {
            entries[session] = nil
            order.removeAll { $0 == session }
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Forgets every finished session (a write still running keeps its entry, so its retries still
    /// wait for it). For harnesses that run many independent clients on one environment: the fuzz
    /// targets call it after each input, so an input replays alone exactly as inside a campaign.
    public func forgetFinished() {
        for (key, entry) in entries {
            if case .done = entry.state { entries[key] = nil }
        }
        order.removeAll { entries[$0] == nil }
    }

    /// Forgets the oldest finished sessions beyond ``capacity``.
    private func evict() {
        guard entries.count > RetryableWriteTable.capacity else { return }
        var kept: [[UInt8]] = []
        var excess = entries.count - RetryableWriteTable.capacity
        for key in order {
            if excess > 0, case .done? = entries[key]?.state {
                entries[key] = nil
                excess -= 1
            } else if entries[key] != nil {
                kept.append(key)
            }
        }
        order = kept
    }

    /// The session key and transaction number of a retryable write, or nil for anything else
    /// (not a write command, no `lsid`/`txnNumber`, or part of a multi-statement transaction).
    public static func key(of request: CommandRequest) -> (session: [UInt8], txnNumber: Int64)? {
        guard FailCommandAction.retryableWriteCommands.contains(request.name),
              case .document(let lsid)? = request.body["lsid"],
              let txn = request.body["txnNumber"], request.body["autocommit"] == nil else { return nil }
        let number: Int64
        switch txn {
        case .int64(let n): number = n
        case .int32(let n): number = Int64(n)
        default: return nil
        }
        return (lsid.bytes, number)
    }
}
