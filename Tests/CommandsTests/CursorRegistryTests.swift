import BSON
import Storage
import Testing

@testable import Commands

@Suite struct CursorRegistryTests {
    let ns = Namespace(unchecked: "db", "c")
    let docs: [BSONDocument] = (0..<5).map { ["_id": .int32(Int32($0))] }

    @Test func idleCursorsExpireUnlessNoTimeout() async throws {
        let registry = CursorRegistry(idleTimeout: .milliseconds(50))
        let a = await registry.register(ArrayCursor(docs), namespace: ns, connectionId: 1, session: nil, noTimeout: false, projection: nil)
        let b = await registry.register(ArrayCursor(docs), namespace: ns, connectionId: 1, session: nil, noTimeout: true, projection: nil)
        #expect(a > 0 && b > 0 && a != b)
        try await Task.sleep(for: .milliseconds(120))
        #expect(await registry.expireIdle() == 1)
        await #expect(throws: CommandError.self) { try await registry.checkOut(id: a, namespace: ns, session: nil) }
        _ = try await registry.checkOut(id: b, namespace: ns, session: nil)
    }

    @Test func foreignSessionOrNamespaceIsCursorNotFound() async throws {
        let registry = CursorRegistry()
        let session: BSONValue = .document(["id": .int32(1)])
        let id = await registry.register(ArrayCursor(docs), namespace: ns, connectionId: 1, session: session, noTimeout: false, projection: nil)
        for (namespace, s) in [(ns, BSONValue.document(["id": .int32(2)])), (Namespace(unchecked: "db", "other"), session)] {
            do {
                _ = try await registry.checkOut(id: id, namespace: namespace, session: s)
                Issue.record("expected CursorNotFound")
            } catch {
                #expect(error.code == 43)
            }
        }
        let lease = try await registry.checkOut(id: id, namespace: ns, session: session)
        #expect(try await lease.cursor.nextBatch(maxCount: 2, maxBytes: 1 << 20).count == 2)
        do {
            _ = try await registry.checkOut(id: id, namespace: ns, session: session)
            Issue.record("a cursor in use must not be checked out twice")
        } catch {
            #expect(error.code == 143 && error.codeName == "CursorInUse")
        }
        await registry.checkIn(id: id, exhausted: false)
        _ = try await registry.checkOut(id: id, namespace: ns, session: session)
    }

    @Test func closingAConnectionFreesOnlyItsCursors() async throws {
        let registry = CursorRegistry()
        let mine = await registry.register(ArrayCursor(docs), namespace: ns, connectionId: 1, session: nil, noTimeout: true, projection: nil)
        let theirs = await registry.register(ArrayCursor(docs), namespace: ns, connectionId: 2, session: nil, noTimeout: true, projection: nil)
        await registry.closeAll(connectionId: 1)
        #expect(await registry.openCount == 1)
        let (killed, notFound) = await registry.kill(ids: [mine, theirs], namespace: ns)
        #expect(killed == [theirs])
        #expect(notFound == [mine])
    }

    @Test func timeBudgetComesFromTheOpeningCommandAndShrinksWithGetMores() async throws {
        let registry = CursorRegistry()
        let unlimited = await registry.register(ArrayCursor(docs), namespace: ns, connectionId: 1, session: nil, noTimeout: false, projection: nil)
        #expect(await registry.timeLeft(id: unlimited) == nil)
        let deadline = OperationDeadline(milliseconds: 1000)
        let budgeted = await OperationDeadline.$current.withValue(deadline) {
            await registry.register(ArrayCursor(docs), namespace: ns, connectionId: 1, session: nil, noTimeout: false, projection: nil)
        }
        let start = try #require(await registry.timeLeft(id: budgeted))
        #expect(start > .milliseconds(900) && start <= .milliseconds(1000))
        // a getMore checks in with what it left; one without a budget leaves an unlimited cursor unlimited
        _ = try await registry.checkOut(id: budgeted, namespace: ns, session: nil)
        await registry.checkIn(id: budgeted, exhausted: false, timeLeft: .milliseconds(250))
        #expect(await registry.timeLeft(id: budgeted) == .milliseconds(250))
        _ = try await registry.checkOut(id: unlimited, namespace: ns, session: nil)
        await registry.checkIn(id: unlimited, exhausted: false, timeLeft: .milliseconds(5))
        #expect(await registry.timeLeft(id: unlimited) == nil)
        // discard closes an idle cursor but never one a getMore holds
        _ = try await registry.checkOut(id: unlimited, namespace: ns, session: nil)
        await registry.discard(id: unlimited)
        await registry.discard(id: budgeted)
        #expect(await registry.openCount == 1)
        await registry.checkIn(id: unlimited, exhausted: true)
        #expect(await registry.openCount == 0)
    }

    @Test func deadlineFromARemainingDurationRoundsUp() {
        #expect(OperationDeadline(remaining: .microseconds(1500)).milliseconds == 2)
        #expect(OperationDeadline(remaining: .zero).milliseconds == 0)
    }
}
