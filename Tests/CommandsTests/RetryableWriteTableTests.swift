import BSON
import Testing

@testable import Commands

@Suite struct RetryableWriteTableTests {
    private func isRun(_ d: RetryableWriteTable.Decision) -> Bool { if case .run = d { return true } else { return false } }

    @Test func resentTxnNumberReplaysOlderIsRefusedFailureIsForgotten() async {
        let table = RetryableWriteTable()
        let session: [UInt8] = [1, 2, 3]
        #expect(isRun(await table.begin(session, txnNumber: 1)))
        await table.finish(session, txnNumber: 1, reply: ["n": 1, "ok": 1.0])
        guard case .replay(let reply) = await table.begin(session, txnNumber: 1) else {
            Issue.record("a resent txnNumber must replay")
            return
        }
        #expect(reply["n"] == .int32(1))
        #expect(isRun(await table.begin(session, txnNumber: 2)))
        await table.finish(session, txnNumber: 2, reply: ["ok": 0.0, "code": 50])
        #expect(isRun(await table.begin(session, txnNumber: 2)), "a failed write's retry runs")
        await table.finish(session, txnNumber: 2, reply: ["ok": 1.0])
        guard case .tooOld(let last) = await table.begin(session, txnNumber: 1) else {
            Issue.record("an older txnNumber must be refused")
            return
        }
        #expect(last == 2)
        #expect(isRun(await table.begin([9], txnNumber: 1)), "sessions are independent")
    }

    @Test func aRetryWaitsForTheRunningAttempt() async {
        let table = RetryableWriteTable()
        #expect(isRun(await table.begin([7], txnNumber: 3)))
        let retry = Task { await table.begin([7], txnNumber: 3) }
        try? await Task.sleep(for: .milliseconds(20))
        await table.finish([7], txnNumber: 3, reply: ["n": 2, "ok": 1.0])
        guard case .replay(let reply) = await retry.value else {
            Issue.record("the waiting retry must get the first attempt's reply")
            return
        }
        #expect(reply["n"] == .int32(2))
    }

    @Test func forgetFinishedDropsDoneSessionsButKeepsRunningOnes() async {
        let table = RetryableWriteTable()
        #expect(isRun(await table.begin([1], txnNumber: 5)))
        await table.finish([1], txnNumber: 5, reply: ["n": 1, "ok": 1.0])
        #expect(isRun(await table.begin([2], txnNumber: 8)))
        await table.forgetFinished()
        #expect(isRun(await table.begin([1], txnNumber: 5)), "a forgotten session's write runs again")
        await table.finish([1], txnNumber: 5, reply: ["ok": 1.0])
        let retry = Task { await table.begin([2], txnNumber: 8) }
        try? await Task.sleep(for: .milliseconds(20))
        await table.finish([2], txnNumber: 8, reply: ["n": 3, "ok": 1.0])
        guard case .replay(let reply) = await retry.value else {
            Issue.record("a running write survives forgetFinished: its retry must wait for it")
            return
        }
        #expect(reply["n"] == .int32(3))
    }

    @Test func onlyWriteCommandsWithLsidAndTxnNumberQualify() throws {
        let lsid: BSONValue = .document(["id": .int32(1)])
        let write = try CommandRequest(body: ["insert": "c", "lsid": lsid, "txnNumber": .int64(4)], database: "d")
        #expect(RetryableWriteTable.key(of: write)?.txnNumber == 4)
        let read = try CommandRequest(body: ["find": "c", "lsid": lsid, "txnNumber": .int64(4)], database: "d")
        #expect(RetryableWriteTable.key(of: read) == nil)
        let noTxn = try CommandRequest(body: ["insert": "c", "lsid": lsid], database: "d")
        #expect(RetryableWriteTable.key(of: noTxn) == nil)
        let transaction = try CommandRequest(body: ["insert": "c", "lsid": lsid, "txnNumber": .int64(4), "autocommit": false], database: "d")
        #expect(RetryableWriteTable.key(of: transaction) == nil)
    }
}
