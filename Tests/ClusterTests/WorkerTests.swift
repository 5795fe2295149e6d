import Foundation
import Testing
@testable import Cluster
import Sweeps
import Trials

private func settings(maxTrials: Int? = nil) -> WorkerSettings {
    var s = WorkerSettings(workerID: "w", host: "h", cores: 2, version: "t")
    s.maxTrials = maxTrials
    return s
}
private func messages(_ ds: [Worker.Directive]) -> [Message] {
    ds.compactMap { if case .send(let m) = $0 { return m } else { return nil } }
}
private func lease(_ trial: String, _ id: Int64) -> Lease {
    Lease(id: id, trialID: trial, configJSON: "{}", attempt: 1, owner: LeaseOwner(worker: "w", identity: "zmq:w"))
}
private let small = TrialResult(metrics: ["a": 1, "nan": .nan], arrays: [NamedArray(name: "m", shape: [2], data: [1, 2])], durationSeconds: 1)

@Suite struct WorkerTests {
    @Test func startSendsReadyWithOutboxThenTheResults() {
        let pending = OutboxEntry(lease: LeaseRef(trialID: "old", leaseID: 4), result: small)
        var w = Worker(settings: settings(), outbox: [pending], now: at(0))
        let m = messages(w.onStart(now: at(0)))
        #expect(m.count == 2)
        guard case .ready(let r) = m[0] else { Issue.record("first message must be READY"); return }
        #expect(r.workerID == "w" && r.running == nil && r.finished == [pending.lease])
        #expect(m[1] == pending.firstMessage)
    }

    @Test func resultIsPersistedBeforeSendAndDroppedOnAck() {
        var w = Worker(settings: settings(), now: at(0))
        _ = w.onStart(now: at(0))
        let l = lease("t", 1)
        #expect(w.onMessage(.lease(l), now: at(0)).contains(.startTrial(l)))
        let out = w.onTrialFinished(leaseID: 1, result: small, now: at(1))
        let persistIndex = out.firstIndex { if case .persist = $0 { return true } else { return false } }
        let sendIndex = out.firstIndex { if case .send(.result) = $0 { return true } else { return false } }
        #expect(persistIndex != nil && sendIndex != nil && persistIndex! < sendIndex!)
        #expect(w.outbox[1]?.body.metrics == ["a": 1], "non-finite metrics cannot travel in JSON")
        #expect(w.onMessage(.ack(Ack(lease: LeaseRef(l))), now: at(2)) == [.unpersist(1)])
        #expect(w.outbox.isEmpty)
    }

    @Test func pullsAreAnsweredWithTheRightBytesAndQuietResultsAreSentAgain() throws {
        var w = Worker(settings: settings(), now: at(0))
        let l = lease("t", 1)
        _ = w.onMessage(.lease(l), now: at(0))
        let big = TrialResult(metrics: [:], arrays: [NamedArray(name: "x", shape: [Wire.chunkBytes / 2], data: (0..<(Wire.chunkBytes / 2)).map { Float($0) })],
                              durationSeconds: 1)
        _ = w.onTrialFinished(leaseID: 1, result: big, now: at(1))
        let payload = ResultBody.payload(of: big)
        let out = messages(w.onMessage(.pull(Pull(lease: LeaseRef(l), offset: Wire.chunkBytes)), now: at(1.1)))
        #expect(out == [.chunk(Chunk(lease: LeaseRef(l), offset: Wire.chunkBytes), payload: Array(payload[Wire.chunkBytes..<(2 * Wire.chunkBytes)]))])
        // no ACK for a while: the result goes again from the start
        let quiet = messages(w.onTick(progress: 0, now: at(1.1 + w.settings.resultRetry + 0.1)))
        #expect(quiet.contains { if case .result(let b, _) = $0 { return b.lease == LeaseRef(l) } else { return false } })
    }

    @Test func refusedResultsAreDroppedAndBusyOnesKept() {
        var w = Worker(settings: settings(), now: at(0))
        for (trial, id) in [("a", Int64(1)), ("b", 2)] {
            _ = w.onMessage(.lease(lease(trial, id)), now: at(0))
            _ = w.onTrialFinished(leaseID: id, result: small, now: at(1))
        }
        let refused = w.onMessage(.error(ErrorBody(code: "refused", message: "not yours", lease: LeaseRef(trialID: "a", leaseID: 1))), now: at(2))
        #expect(refused.contains(.unpersist(1)))
        let busy = w.onMessage(.error(ErrorBody(code: "busy", message: "later", lease: LeaseRef(trialID: "b", leaseID: 2))), now: at(2))
        #expect(!busy.contains(.unpersist(2)))
        #expect(w.outbox.keys.sorted() == [2])
    }

    @Test func silenceTriggersReconnectWithBackoffAndResend() {
        var w = Worker(settings: settings(), now: at(0))
        _ = w.onStart(now: at(0))
        _ = w.onMessage(.lease(lease("t", 1)), now: at(0))
        _ = w.onTrialFinished(leaseID: 1, result: small, now: at(0.5))
        #expect(!w.onTick(progress: 0, now: at(2.9)).contains(.reconnect))
        let first = w.onTick(progress: 0, now: at(3.1))
        #expect(first.contains(.reconnect))
        #expect(messages(first).contains { if case .result(let b, _) = $0 { return b.lease.trialID == "t" } else { return false } })
        // Backoff: the next reconnect waits liveness + 0.5 s.
        #expect(!w.onTick(progress: 0, now: at(6.5)).contains(.reconnect))
        #expect(w.onTick(progress: 0, now: at(6.7)).contains(.reconnect))
        // Hearing from the coordinator resets the clock.
        _ = w.onMessage(.heartbeat(Heartbeat()), now: at(7))
        #expect(!w.onTick(progress: 0, now: at(9.9)).contains(.reconnect))
    }

    @Test func heartbeatsNameTheLeaseAndCarryProgress() {
        var w = Worker(settings: settings(), now: at(0))
        _ = w.onStart(now: at(0))
        _ = w.onMessage(.lease(lease("t", 9)), now: at(0))
        #expect(messages(w.onTick(progress: 42, now: at(1.01))) == [.heartbeat(Heartbeat(lease: LeaseRef(trialID: "t", leaseID: 9), progress: 42))])
    }

    @Test func stoppingCancelsTheTrialAndLeavesOnlyWhenItHasStopped() {
        var w = Worker(settings: settings(), now: at(0))
        _ = w.onMessage(.lease(lease("t", 1)), now: at(0))
        let stop = w.onStopRequested(code: 130, reason: "stop requested", now: at(1))
        #expect(stop.contains(.cancelTrial("t")) && !stop.contains(.exit(130)))
        #expect(w.onTick(progress: 0, now: at(2)).allSatisfy { if case .exit = $0 { return false } else { return true } })
        // The runner stopped: no FAIL (that would spend an attempt), a goodbye, then exit.
        let end = w.onTrialFailed(leaseID: 1, reason: "cancelled", retryable: true, now: at(2.5))
        #expect(!messages(end).contains { if case .fail = $0 { return true } else { return false } })
        #expect(messages(end).contains { if case .disconnect = $0 { return true } else { return false } })
        #expect(end.last == .exit(130))
    }

    @Test func aTrialThatWillNotStopIsLeftBehindAfterTheGrace() {
        var w = Worker(settings: settings(), now: at(0))
        _ = w.onMessage(.lease(lease("t", 1)), now: at(0))
        _ = w.onStopRequested(code: 130, reason: "stop requested", now: at(1))
        #expect(w.onTick(progress: 0, now: at(1 + w.settings.stopGrace + 0.1)).contains(.exit(130)))
    }

    @Test func sweepDoneWaitsForTheRunningTrialToStopThenExitsZero() {
        var w = Worker(settings: settings(), now: at(0))
        #expect(w.onMessage(.disconnect(Disconnect(reason: "done", sweepDone: true)), now: at(0)).contains(.exit(0)))
        var busy = Worker(settings: settings(), now: at(0))
        _ = busy.onMessage(.lease(lease("t", 1)), now: at(0))
        let out = busy.onMessage(.disconnect(Disconnect(reason: "done", sweepDone: true)), now: at(1))
        #expect(out.contains(.cancelTrial("t")) && !out.contains(.exit(0)))
        #expect(busy.onTrialFailed(leaseID: 1, reason: "cancelled", retryable: true, now: at(1.2)).contains(.exit(0)))
    }

    @Test func maxTrialsExitsAfterTheAck() {
        var w = Worker(settings: settings(maxTrials: 1), now: at(0))
        let l = lease("t", 1)
        _ = w.onMessage(.lease(l), now: at(0))
        #expect(!w.onTrialFinished(leaseID: 1, result: small, now: at(1)).contains(.exit(0)))
        #expect(w.onMessage(.ack(Ack(lease: LeaseRef(l))), now: at(2)).contains(.exit(0)))
    }

    @Test func leaseRacesAreHarmless() {
        var w = Worker(settings: settings(), now: at(0))
        let a = lease("a", 1)
        _ = w.onMessage(.lease(a), now: at(0))
        #expect(w.onMessage(.lease(a), now: at(0)).isEmpty, "a duplicate of the running lease")
        #expect(messages(w.onMessage(.lease(lease("b", 2)), now: at(0))).isEmpty, "busy: ignored, heartbeats sort it out")
        #expect(w.current?.id == 1)
        _ = w.onTrialFinished(leaseID: 1, result: small, now: at(1))
        #expect(w.onMessage(.lease(a), now: at(2)) == [.send(w.outbox[1]!.firstMessage)])
        #expect(w.current == nil)
    }

    @Test func aCopyOfALeaseThatFailedHereIsAnsweredWithTheSameFailure() {
        var w = Worker(settings: settings(), now: at(0))
        let a = lease("a", 1)
        _ = w.onMessage(.lease(a), now: at(0))
        let failed = messages(w.onTrialFailed(leaseID: 1, reason: "diverged", retryable: false, now: at(1)))
        #expect(failed.count == 1)
        let again = w.onMessage(.lease(a), now: at(2))
        #expect(!again.contains(.startTrial(a)))
        #expect(messages(again) == failed)
        // A different trial under a new lease still runs.
        #expect(w.onMessage(.lease(lease("b", 2)), now: at(3)).contains(.startTrial(lease("b", 2))))
    }

    @Test func aCopyOfALeaseWhoseResultWasAcknowledgedIsIgnored() {
        var w = Worker(settings: settings(), now: at(0))
        let a = lease("a", 1)
        _ = w.onMessage(.lease(a), now: at(0))
        _ = w.onTrialFinished(leaseID: 1, result: small, now: at(1))
        _ = w.onMessage(.ack(Ack(lease: LeaseRef(a))), now: at(2))
        #expect(messages(w.onMessage(.lease(a), now: at(3))).isEmpty)
        #expect(w.current == nil)
        // After a coordinator's goodbye ids may start again (a fresh store): the memory is dropped.
        _ = w.onMessage(.disconnect(Disconnect(reason: "bye", sweepDone: false)), now: at(4))
        #expect(w.onMessage(.lease(a), now: at(5)).contains(.startTrial(a)))
    }

    /// The interleaving spin finds with `-DBROKEN_FORGET`, through both real state machines: the worker
    /// re-registers while its LEASE is in flight, runs the lease, it fails for good, and the coordinator
    /// then answers the second READY by re-sending the lease it has not seen start.
    @Test func aReRegistrationCrossingTheLeaseDoesNotRunItTwice() throws {
        let store = try testStore(trials: 1)
        let id = try store.trialIDs()[0]
        var d = Drive(store)
        var w = Worker(settings: settings(), now: at(0))
        let readies = messages(w.onStart(now: at(0))) + messages(w.register(now: at(0)))
        #expect(readies.count == 2)
        var starts = 0
        var toCoordinator: [Message] = []
        let granted = d.from("w", readies[0], 1, identity: "zmq:w")
        for case .lease(let l) in sent(granted).map(\.1) {
            let ds = w.onMessage(.lease(l), now: at(2))
            starts += ds.filter { if case .startTrial = $0 { return true } else { return false } }.count
            toCoordinator += messages(w.onTrialFailed(leaseID: l.id, reason: "boom", retryable: false, now: at(3)))
        }
        let resent = d.from("w", readies[1], 4, identity: "zmq:w")
        #expect(!leases(resent).isEmpty, "the coordinator re-sends the lease it has not seen start")
        for case .lease(let l) in sent(resent).map(\.1) {
            let ds = w.onMessage(.lease(l), now: at(5))
            starts += ds.filter { if case .startTrial = $0 { return true } else { return false } }.count
            toCoordinator += messages(ds)
        }
        #expect(starts == 1)
        #expect(toCoordinator.count == 2, "the FAIL, then the same FAIL as the answer to the copy")
        for m in toCoordinator { _ = d.from("w", m, 6, identity: "zmq:w") }
        #expect(try store.trial(id)?.state == .failed)
        #expect(try store.trial(id)?.attempts == 1)
    }
}
