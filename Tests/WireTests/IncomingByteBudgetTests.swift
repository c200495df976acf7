import NIOCore
import NIOEmbedded
import Synchronization
import Testing
import Wire

@Suite struct IncomingByteBudgetTests {
    @Test func grantsWhileBytesFitThenQueuesInOrder() throws {
        let budget = IncomingByteBudget(limit: 100)
        let granted = Mutex<[Int]>([])
        guard case .granted(let a) = budget.request(60, onGrant: { _ in }) else { Issue.record("60 of 100 fits"); return }
        var held: [IncomingByteBudget.Reservation] = []
        let keep = Mutex<[IncomingByteBudget.Reservation]>([])
        for bytes in [50, 10] {
            guard case .queued = budget.request(bytes, onGrant: { r in
                granted.withLock { $0.append(r.bytes) }
                keep.withLock { $0.append(r) }
            }) else { Issue.record("\(bytes) must wait: 60 held and a queue exists"); return }
        }
        #expect(budget.waitingReaders == 2)
        #expect(granted.withLock { $0 }.isEmpty)
        a.release()
        // FIFO: 50 first, then 10 (which would have fitted before 50 but does not jump the queue).
        #expect(granted.withLock { $0 } == [50, 10])
        #expect(budget.bytesInUse == 60)
        held = keep.withLock { $0 }
        held.forEach { $0.release() }
        #expect(budget.bytesInUse == 0)
        #expect(budget.peakBytesInUse == 60)
    }

    @Test func aRequestLargerThanTheBudgetPassesWhenNothingIsHeld() {
        let budget = IncomingByteBudget(limit: 10)
        guard case .granted(let big) = budget.request(1_000, onGrant: { _ in }) else {
            Issue.record("an oversized request must not deadlock an empty budget")
            return
        }
        #expect(budget.bytesInUse == 1_000)
        big.release()
        big.release()  // idempotent
        #expect(budget.bytesInUse == 0)
    }

    @Test func cancelledWaiterIsNeverGrantedAndUnblocksTheQueue() {
        let budget = IncomingByteBudget(limit: 100)
        let held = budget.charge(90)
        let grants = Mutex(0)
        guard case .queued(let first) = budget.request(50, onGrant: { _ in grants.withLock { $0 += 1 } }),
              case .queued = budget.request(5, onGrant: { r in grants.withLock { $0 += 1 }; r.release() })
        else { Issue.record("both must wait"); return }
        #expect(budget.cancel(first))
        // With the 50 gone, 5 fits next to the 90 held.
        #expect(grants.withLock { $0 } == 1)
        held.release()
        #expect(budget.bytesInUse == 0)
    }

    @Test func reservationIsReleasedWhenDropped() {
        let budget = IncomingByteBudget(limit: 100)
        do {
            _ = budget.charge(40)
        }
        #expect(budget.bytesInUse == 0)
    }

    @Test func reserveWaitsForReleasedBytes() async {
        let budget = IncomingByteBudget(limit: 100)
        let first = await budget.reserve(80)  // fits: granted at once
        #expect(budget.bytesInUse == 80)
        let waiter = Task { await budget.reserve(50) }
        while budget.waitingReaders == 0 { await Task.yield() }
        #expect(budget.bytesInUse == 80)
        first.release()
        let second = await waiter.value
        #expect(second.bytes == 50 && budget.bytesInUse == 50)
        second.release()
        // larger than the whole budget: granted when nothing else is held
        let huge = await budget.reserve(1_000)
        #expect(huge.bytes == 1_000)
        huge.release()
        #expect(budget.bytesInUse == 0)
    }
}

