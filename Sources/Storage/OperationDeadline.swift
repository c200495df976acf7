import MongoErrors

/// The time limit of one operation (a command's `maxTimeMS`): when it passes, the operation stops
/// at its next check and fails with 50 MaxTimeMSExpired, as mongod's interrupt checks do.
///
/// The dispatcher binds it to the running task (``current``) around a command; storage code checks
/// it where mongod checks for interrupts: while scanning (``Checker``, every few records), before
/// each document or statement of a write, and once a write has the writer lock. A write that
/// expires throws out of its transaction, so the backend rolls back all of it: an expired command
/// leaves nothing half applied. Backends that run storage work on threads of their own capture
/// ``current`` before handing the work over and bind it again there (``bind(_:_:)``).
public struct OperationDeadline: Sendable, Hashable {
    /// When the operation must have finished.
    public let instant: ContinuousClock.Instant
    /// The limit the client asked for, in milliseconds.
    public let milliseconds: Int64

    /// A deadline `milliseconds` after `start`.
    public init(milliseconds: Int64, from start: ContinuousClock.Instant = .now) {
        self.milliseconds = milliseconds
        self.instant = start.advanced(by: .milliseconds(milliseconds))
    }

    /// A deadline `remaining` after `start` (a cursor's leftover budget; `milliseconds` rounds up).
    public init(remaining: Duration, from start: ContinuousClock.Instant = .now) {
        let (seconds, attoseconds) = remaining.components
        let ms = seconds.multipliedReportingOverflow(by: 1000)
        self.milliseconds = ms.overflow ? Int64.max : max(0, ms.partialValue &+ (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
        self.instant = start.advanced(by: remaining)
    }

    /// The deadline of the operation running on this task, if it has one.
    @TaskLocal public static var current: OperationDeadline?

    /// True once the deadline has passed.
    public var isExpired: Bool { ContinuousClock.now >= instant }

    /// Time left (zero once expired).
    public var remaining: Duration {
        let left = instant - ContinuousClock.now
        return left > .zero ? left : .zero
    }

    /// The error of an expired operation (mongod's wording).
    public static var expiredError: MongoError {
        MongoError(.maxTimeMSExpired, "operation exceeded time limit")
    }

    /// Throws 50 MaxTimeMSExpired when this deadline has passed.
    public func check() throws(MongoError) {
        if isExpired { throw OperationDeadline.expiredError }
    }

    /// Throws 50 MaxTimeMSExpired when the current operation's deadline has passed.
    public static func checkCurrent() throws(MongoError) {
        try current?.check()
    }

    /// Runs `body` with `deadline` as the current one (for work a backend moved to another thread).
    public static func bind<T>(_ deadline: OperationDeadline?, _ body: () throws -> T) rethrows -> T {
        guard let deadline else { return try body() }
        return try $current.withValue(deadline) { try body() }
    }

    /// Checks a deadline inside a loop without reading the clock on every pass: every
    /// ``interval``-th call (and the first) looks at the clock.
    public struct Checker: Sendable {
        /// Calls between two clock reads.
        public static let interval = 32
        private let deadline: OperationDeadline?
        /// Starts one short of the interval, so the first call looks at the clock.
        private var calls = Checker.interval - 1

        /// A checker for the current operation's deadline (none: every check passes).
        public init(_ deadline: OperationDeadline? = OperationDeadline.current) {
            self.deadline = deadline
        }

        /// Throws 50 MaxTimeMSExpired when the deadline has passed (looked at every few calls).
        public mutating func tick() throws(MongoError) {
            guard let deadline else { return }
            calls &+= 1
            if calls >= Checker.interval {
                calls = 0
                try deadline.check()
            }
        }
    }
}
