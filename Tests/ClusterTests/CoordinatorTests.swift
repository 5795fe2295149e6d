import Foundation
import Testing
@testable import Cluster

private let t0 = Date(timeIntervalSince1970: 1_000_000)
private func at(_ s: Double) -> Date { t0.addingTimeInterval(s) }
private func ready(_ id: String, running: RunningTrial? = nil) -> Message {
    .ready(Ready(workerID: id, host: "h", cores: 2, version: "t", running: running))
}
private func sent(_ ds: [Coordinator.Directive]) -> [(PeerID, Message)] {
    ds.compactMap { if case .send(let p, let m) = $0 { return (p, m) } else { return nil } }
}
private func leases(_ ds: [Coordinator.Directive]) -> [LeaseBody] {
    sent(ds).compactMap { if case .lease(let l) = $0.1 { return l } else { return nil } }
}
private func exitCode(_ ds: [Coordinator.Directive]) -> Int32? {
    ds.compactMap { if case .exit(let c) = $0 { return c } else { return nil } }.first
}
private func result(_ id: String, attempt: Int = 1) -> Message {
    .result(ResultBody(trialID: id, attempt: attempt, result: WireResult(metrics: ["acc": 1], durationSeconds: 1)))
}

@Suite struct CoordinatorTests {
    @Test func readyWorkerGetsALeaseAndResultIsAckedAfterCommit() {
        let store = StoreDouble(ids: ["a", "b"])
        var c = Coordinator(settings: CoordinatorSettings(), store: store)
        let w = PeerID("w1")
        let l = leases(c.onMessage(from: w, ready("w1"), now: at(0)))
        #expect(l.map(\.trialID) == ["a"])
        #expect(store.state("a") == .leased("w1"))
        let out = c.onMessage(from: w, result("a"), now: at(1))
        #expect(store.state("a") == .done)
        let acks = sent(out).compactMap { if case .ack(let a) = $0.1 { return a } else { return nil } }
        #expect(acks == [Ack(trialID: "a", duplicate: false)])
        #expect(leases(out).map(\.trialID) == ["b"])
        let end = c.onMessage(from: w, result("b"), now: at(2))
        #expect(exitCode(end) == 0)
        #expect(sent(end).contains { if case .disconnect(let d) = $0.1 { return d.sweepDone } else { return false } })
    }

    @Test func storeFailureMeansNoAck() {
        let store = StoreDouble(ids: ["a"])
        store.failNextComplete = true
        var c = Coordinator(settings: CoordinatorSettings(), store: store)
        _ = c.onMessage(from: PeerID("w"), ready("w"), now: at(0))
        let out = c.onMessage(from: PeerID("w"), result("a"), now: at(1))
        #expect(sent(out).isEmpty)
        #expect(store.state("a") == .leased("w"))
    }

    @Test func duplicateResultIsANoOpAck() {
        let store = StoreDouble(ids: ["a", "b"])
        var c = Coordinator(settings: CoordinatorSettings(), store: store)
        _ = c.onMessage(from: PeerID("w"), ready("w"), now: at(0))
        _ = c.onMessage(from: PeerID("w"), result("a"), now: at(1))
        // Same result again, e.g. re-sent from an outbox by a peer the coordinator does not know.
        let out = c.onMessage(from: PeerID("other"), result("a"), now: at(2))
        let acks = sent(out).compactMap { if case .ack(let a) = $0.1 { return a } else { return nil } }
        #expect(acks == [Ack(trialID: "a", duplicate: true)])
        #expect(store.completions["a"] == 1)
    }

    @Test func silentWorkerLosesItsTrialAfterLiveness() {
        let store = StoreDouble(ids: ["a"])
        var c = Coordinator(settings: CoordinatorSettings(), store: store)
        _ = c.onMessage(from: PeerID("w1"), ready("w1"), now: at(0))
        _ = c.onMessage(from: PeerID("w1"), .heartbeat(Heartbeat(trialID: "a", progress: 1)), now: at(2))
        _ = c.onTick(now: at(4.9))
        #expect(store.state("a") == .leased("w1"))
        _ = c.onTick(now: at(5.1))
        #expect(store.state("a") == .pending)
        #expect(c.workers.isEmpty)
        // A second worker picks it up: attempt 2.
        let l = leases(c.onMessage(from: PeerID("w2"), ready("w2"), now: at(6)))
        #expect(l.map(\.attempt) == [2])
    }

    @Test func stalledProgressCancelsAndRequeues() {
        let store = StoreDouble(ids: ["a"])
        var settings = CoordinatorSettings()
        settings.trialTimeout = 10
        var c = Coordinator(settings: settings, store: store)
        let w = PeerID("w")
        _ = c.onMessage(from: w, ready("w"), now: at(0))
        for s in stride(from: 1.0, through: 9, by: 1) {
            _ = c.onMessage(from: w, .heartbeat(Heartbeat(trialID: "a", progress: Int(s))), now: at(s))
        }
        // Alive but stuck: heartbeats keep coming, the counter stays at 9.
        var out: [Coordinator.Directive] = []
        for s in stride(from: 10.0, through: 18.5, by: 0.5) {
            _ = c.onMessage(from: w, .heartbeat(Heartbeat(trialID: "a", progress: 9)), now: at(s))
            out += c.onTick(now: at(s))
        }
        #expect(!sent(out).contains { if case .cancel = $0.1 { return true } else { return false } })
        out = c.onTick(now: at(19.1))
        #expect(sent(out).contains { if case .cancel(let x) = $0.1 { return x.trialID == "a" } else { return false } })
        // Re-queued; the worker gets no new lease until it confirms the cancellation.
        #expect(store.state("a") == .pending)
        #expect(leases(c.onTick(now: at(19.2))).isEmpty)
        let back = c.onMessage(from: w, .fail(FailBody(trialID: "a", attempt: 1, reason: "cancelled", retryable: true)), now: at(19.5))
        #expect(leases(back).map(\.attempt) == [2])
        #expect(store.trials[0].attempts == 2)
    }

    @Test func wallClockLimitCancelsEvenWithProgress() {
        let store = StoreDouble(ids: ["a"])
        var settings = CoordinatorSettings()
        settings.wallClockLimit = 5
        var c = Coordinator(settings: settings, store: store)
        let w = PeerID("w")
        _ = c.onMessage(from: w, ready("w"), now: at(0))
        var out: [Coordinator.Directive] = []
        for s in stride(from: 0.5, through: 4.5, by: 0.5) {
            _ = c.onMessage(from: w, .heartbeat(Heartbeat(trialID: "a", progress: Int(s * 10))), now: at(s))
            out += c.onTick(now: at(s))
        }
        #expect(!sent(out).contains { if case .cancel = $0.1 { return true } else { return false } })
        _ = c.onMessage(from: w, .heartbeat(Heartbeat(trialID: "a", progress: 99)), now: at(5.1))
        out = c.onTick(now: at(5.1))
        #expect(sent(out).contains { if case .cancel(let x) = $0.1 { return x.trialID == "a" } else { return false } })
        #expect(store.state("a") == .pending)
    }

    @Test func disconnectRequeuesAndUnknownPeersAreToldToRegister() {
        let store = StoreDouble(ids: ["a"])
        var c = Coordinator(settings: CoordinatorSettings(), store: store)
        _ = c.onMessage(from: PeerID("w"), ready("w"), now: at(0))
        _ = c.onMessage(from: PeerID("w"), .disconnect(Disconnect(reason: "bye", sweepDone: false)), now: at(1))
        #expect(store.state("a") == .pending)
        let out = c.onMessage(from: PeerID("x"), .heartbeat(Heartbeat()), now: at(1))
        #expect(sent(out).contains { if case .error(let e) = $0.1 { return e.code == "not-registered" } else { return false } })
    }

    @Test func reconnectingWorkerKeepsItsRunningTrial() {
        let store = StoreDouble(ids: ["a", "b"])
        var c = Coordinator(settings: CoordinatorSettings(), store: store)
        _ = c.onMessage(from: PeerID("w"), ready("w"), now: at(0))
        // Coordinator restarts: a fresh state machine over the same store.
        var c2 = Coordinator(settings: CoordinatorSettings(), store: store)
        let out = c2.onMessage(from: PeerID("w"), ready("w", running: RunningTrial(trialID: "a", attempt: 1)), now: at(3))
        #expect(leases(out).isEmpty)
        #expect(c2.workers[PeerID("w")]?.trial?.trialID == "a")
    }

    @Test func permanentFailureEndsWithNonZeroExit() {
        let store = StoreDouble(ids: ["a"])
        var c = Coordinator(settings: CoordinatorSettings(), store: store)
        _ = c.onMessage(from: PeerID("w"), ready("w"), now: at(0))
        let out = c.onMessage(from: PeerID("w"), .fail(FailBody(trialID: "a", attempt: 1, reason: "NaN", retryable: false)), now: at(1))
        #expect(store.state("a") == .failed)
        #expect(exitCode(out) == 2)
    }

    @Test func gracefulShutdownWaitsForRunningTrialsThenRequeues() {
        let store = StoreDouble(ids: ["a", "b", "c"])
        var settings = CoordinatorSettings()
        settings.shutdownGrace = 5
        var c = Coordinator(settings: settings, store: store)
        _ = c.onMessage(from: PeerID("w1"), ready("w1"), now: at(0))
        _ = c.onMessage(from: PeerID("w2"), ready("w2"), now: at(0))
        _ = c.onShutdownRequested(now: at(1))
        // w1 finishes inside the grace period: no new lease for it.
        let out = c.onMessage(from: PeerID("w1"), result("a"), now: at(2))
        #expect(leases(out).isEmpty)
        _ = c.onMessage(from: PeerID("w2"), .heartbeat(Heartbeat(trialID: "b", progress: 1)), now: at(3))
        #expect(exitCode(c.onTick(now: at(3))) == nil)
        _ = c.onMessage(from: PeerID("w2"), .heartbeat(Heartbeat(trialID: "b", progress: 2)), now: at(5.5))
        let end = c.onTick(now: at(6.1))
        #expect(exitCode(end) == 130)
        #expect(store.state("a") == .done)
        #expect(store.state("b") == .pending)
        #expect(store.state("c") == .pending)
    }

    @Test func malformedFramesAreDroppedWithoutStateChange() {
        let store = StoreDouble(ids: ["a"])
        var c = Coordinator(settings: CoordinatorSettings(), store: store)
        let garbage: [[[UInt8]]] = [[], [[1, 2, 3]], [Array("GET / HTTP/1.1".utf8), [], []],
                                     [Array("FSW1".utf8), Array("READY".utf8), Array("{not json".utf8)]]
        for frames in garbage {
            let out = c.onMessage(from: PeerID("g"), frames: frames, now: at(0))
            #expect(leases(out).isEmpty)
            #expect(out.contains { if case .log(.warning, _) = $0 { return true } else { return false } })
        }
        #expect(c.workers.isEmpty)
        #expect(store.state("a") == .pending)
    }

    @Test func thousandIdleWorkersCostOneStoreQueryPerSecond() {
        // Nothing pending: idle workers must not hammer the store every tick.
        final class CountingStore: CoordinatorStore, @unchecked Sendable {
            // Safe: used from the test's single thread only.
            var leaseCalls = 0
            func leaseNext(worker: String, leaseSeconds: Double, now: Date) throws -> LeaseGrant? { leaseCalls += 1; return nil }
            func extendLease(trialID: String, worker: String, until: Date) throws {}
            func recordProgress(trialID: String, epoch: Int, epochs: Int, metrics: [String: Double]) throws {}
            func complete(trialID: String, attempt: Int, worker: String, result: WireResult) throws -> Bool { true }
            func fail(trialID: String, worker: String, reason: String, retryable: Bool) throws {}
            func requeueExpired(now: Date) throws -> [String] { [] }
            func requeue(trialID: String, reason: String) throws {}
            func counts() throws -> TrialCounts { TrialCounts(pending: 0, leased: 1, done: 0, failed: 0) }
            func statusJSON() throws -> String { "{}" }
        }
        let store = CountingStore()
        var c = Coordinator(settings: CoordinatorSettings(), store: store)
        for i in 0..<1000 { _ = c.onMessage(from: PeerID("w\(i)"), ready("w\(i)"), now: at(0)) }
        let before = store.leaseCalls
        for k in 1...9 { _ = c.onTick(now: at(Double(k) * 0.1)) }
        #expect(store.leaseCalls - before <= 1)
        #expect(c.workers.count == 1000)
    }
}
