import Foundation
import Testing
@testable import Cluster
import Sweeps
import Trials

private let t0 = Date(timeIntervalSince1970: 1_000_000)
func at(_ s: Double) -> Date { t0.addingTimeInterval(s) }

func ready(_ id: String, running: LeaseRef? = nil, finished: [LeaseRef] = []) -> Message {
    .ready(Ready(workerID: id, host: "h", cores: 2, version: "t", running: running, finished: finished))
}
/// Every message sent, before or after the commit.
func sent(_ ds: [Coordinator.Directive]) -> [(PeerID, Message)] {
    ds.compactMap {
        switch $0 {
        case .send(let p, let m), .sendNow(let p, let m): (p, m)
        default: nil
        }
    }
}
/// The messages that leave before the step commits.
func sentNow(_ ds: [Coordinator.Directive]) -> [(PeerID, Message)] {
    ds.compactMap { if case .sendNow(let p, let m) = $0 { return (p, m) } else { return nil } }
}
func leases(_ ds: [Coordinator.Directive]) -> [Lease] {
    sent(ds).compactMap { if case .lease(let l) = $0.1 { return l } else { return nil } }
}
func errors(_ ds: [Coordinator.Directive]) -> [ErrorBody] {
    sent(ds).compactMap { if case .error(let e) = $0.1 { return e } else { return nil } }
}
func acks(_ ds: [Coordinator.Directive]) -> [Ack] {
    sent(ds).compactMap { if case .ack(let a) = $0.1 { return a } else { return nil } }
}
func cancels(_ ds: [Coordinator.Directive]) -> [String] {
    sent(ds).compactMap { if case .cancel(let c) = $0.1 { return c.trialID } else { return nil } }
}
func exitCode(_ ds: [Coordinator.Directive]) -> Int32? {
    ds.compactMap { if case .exit(let c) = $0 { return c } else { return nil } }.first
}
func logs(_ ds: [Coordinator.Directive]) -> [String] {
    ds.compactMap { if case .log(_, let t) = $0 { return t } else { return nil } }
}
func resultMessage(_ lease: Lease, accuracy: Double = 1) -> Message {
    let entry = OutboxEntry(lease: LeaseRef(lease), result: TrialResult(metrics: ["acc": accuracy],
                            arrays: [NamedArray(name: "m", shape: [2], data: [1, 2])], durationSeconds: 1))
    return entry.firstMessage
}

/// Drives a coordinator the way its shell does (identity `zmq:<routing id>` unless given; every step is one
/// batch, committed before the next unless `commit` is false).
struct Drive {
    var c: Coordinator
    init(_ store: any CoordinatorStore, _ settings: CoordinatorSettings = CoordinatorSettings(), start: Double = 0) {
        c = Coordinator(settings: settings, store: store)
        _ = c.onStart(now: at(start))
    }
    mutating func from(_ peer: String, _ m: Message, _ s: Double, identity: String? = nil, commit: Bool = true) -> [Coordinator.Directive] {
        defer { if commit { c.onCommitted() } }
        // As the server does: the LEASE the message lets leave ahead is sent before the message is handled.
        let id = identity ?? "zmq:\(peer)"
        let ahead = c.leaseAhead(for: PeerID(peer), identity: id, frames: Wire.encode(m)).flatMap { try? Wire.decode($0).get() }
            .map { [Coordinator.Directive.sendNow(PeerID(peer), $0)] } ?? []
        return ahead + c.onMessage(from: PeerID(peer), identity: id, m, now: at(s))
    }
    mutating func tick(_ s: Double) -> [Coordinator.Directive] {
        defer { c.onCommitted() }
        return c.onTick(now: at(s))
    }
    func owner(_ peer: String) -> LeaseOwner { LeaseOwner(worker: peer, identity: "zmq:\(peer)") }
}

@Suite struct CoordinatorTests {
    @Test func readyWorkerGetsALeaseAndResultIsAckedAfterCommit() throws {
        let store = try testStore(trials: 2)
        let ids = try store.trialIDs()
        var d = Drive(store)
        let l = leases(d.from("w1", ready("w1"), 0))
        #expect(l.map(\.trialID) == [ids[0]])
        #expect(try store.trial(ids[0])?.state == .leased)
        let out = d.from("w1", resultMessage(l[0]), 1)
        #expect(try store.trial(ids[0])?.state == .done)
        #expect(acks(out) == [Ack(lease: LeaseRef(l[0]), duplicate: false)])
        let next = leases(out)
        #expect(next.map(\.trialID) == [ids[1]])
        let end = d.from("w1", resultMessage(next[0]), 2)
        #expect(exitCode(end) == 0)
        #expect(sent(end).contains { if case .disconnect(let x) = $0.1 { return x.sweepDone } else { return false } })
    }

    @Test func storeFailureMeansNoAck() throws {
        let store = FaultyStore(try testStore(trials: 1))
        store.failNextComplete = true
        var d = Drive(store)
        let l = leases(d.from("w", ready("w"), 0))
        let out = d.from("w", resultMessage(l[0]), 1)
        #expect(acks(out).isEmpty)
        #expect(try store.real.counts().leased == 1)
        // sent again (from the outbox): stored now
        #expect(acks(d.from("w", resultMessage(l[0]), 2)).count == 1)
    }

    @Test func aLeaseTheStoreCouldNotEndIsKeptAndEndedWhenOrphansExpire() throws {
        let store = FaultyStore(try testStore(trials: 2, maxAttempts: 1))
        let ids = try store.real.trialIDs()
        var d = Drive(store)
        let first = leases(d.from("w", ready("w"), 0))[0]
        store.failNextFail = true
        let out = d.from("w", .fail(FailBody(lease: LeaseRef(first), reason: "boom", retryable: false)), 1)
        #expect(try store.real.trial(ids[0])?.state == .leased, "the store still holds the lease")
        #expect(d.c.orphans[first.id] != nil, "so memory keeps it too")
        let second = leases(out)[0]
        store.failNextRelease = true
        _ = d.from("w", .disconnect(Disconnect(reason: "bye", sweepDone: false)), 2)
        #expect(d.c.orphans.keys.sorted() == [first.id, second.id])
        #expect(exitCode(d.tick(3)) == nil, "no finish while the store holds live leases")
        #expect(d.c.orphans.count == 2, "still inside the start's adoption grace")
        let expiry = logs(d.tick(d.c.settings.adoptionGrace + 1))
        #expect(d.c.orphans.isEmpty)
        #expect(expiry.filter { $0.contains("the store could not end it earlier (could not record the failure") }.count == 1, "\(expiry)")
        #expect(expiry.filter { $0.contains("the store could not end it earlier (could not re-queue") }.count == 1, "\(expiry)")
        #expect(!expiry.contains { $0.contains("restart") }, "these leases were not orphaned by a restart")
        #expect(try store.real.counts().leased == 0)
        // Neither lease was recorded as started, so both trials wait again without spending an attempt.
        #expect(try store.real.trial(ids[0])?.state == .pending)
        #expect(try store.real.trial(ids[1])?.state == .pending)
        #expect(try store.real.status().trials.allSatisfy { $0.attempts == 0 })
    }

    @Test func resentResultIsADuplicateAckAndChangesNothing() throws {
        let store = try testStore(trials: 2)
        var d = Drive(store)
        let l = leases(d.from("w", ready("w"), 0))
        _ = d.from("w", resultMessage(l[0], accuracy: 0.5), 1)
        let out = d.from("w", resultMessage(l[0], accuracy: 0.9), 2)
        #expect(acks(out) == [Ack(lease: LeaseRef(l[0]), duplicate: true)])
        #expect(try store.records().first { $0.id == l[0].trialID }?.metrics["acc"] == 0.5)
    }

    @Test func forgedResultsAreRefusedAndStoreNothing() throws {
        let store = try testStore(trials: 3)
        let ids = try store.trialIDs()
        var d = Drive(store)
        let real = leases(d.from("w1", ready("w1"), 0))[0]
        let forged = Lease(id: real.id + 9, trialID: ids[2], configJSON: "{}", attempt: 1, owner: d.owner("forger"))
        // Never sent READY: told to register, nothing stored.
        #expect(errors(d.from("forger", resultMessage(forged), 1)).map(\.code) == ["not-registered"])
        // Registered (and given its own lease), then posts a result for a lease it does not hold.
        _ = d.from("forger", ready("forger"), 1)
        #expect(errors(d.from("forger", resultMessage(forged), 2)).map(\.code) == ["refused"])
        // Claims w1's lease from its own connection (same worker id, other identity).
        var stolen = real
        stolen.owner = d.owner("x")
        #expect(errors(d.from("thief", resultMessage(stolen), 3, identity: "zmq:thief")).map(\.code) == ["not-registered"])
        _ = d.from("thief", ready("w1"), 3, identity: "zmq:thief")
        let out = d.from("thief", resultMessage(real), 4, identity: "zmq:thief")
        #expect(errors(out).map(\.code) == ["refused"])
        #expect(try store.counts().done == 0)
        #expect(try store.trial(real.trialID)?.worker == "w1")
        #expect(acks(d.from("w1", resultMessage(real), 5)).count == 1)
    }

    @Test func readyFloodThatVanishesSpendsNoAttempts() throws {
        let store = try testStore(trials: 16, maxAttempts: 3)
        var d = Drive(store)
        for round in 0..<2 {
            let t = Double(round) * 10
            for i in 0..<500 { _ = d.from("fake-\(round)-\(i)", ready("fake-\(round)-\(i)"), t) }
            _ = d.tick(t + 5)  // all silent past the liveness window
        }
        let c = try store.counts()
        #expect(c.failed == 0 && c.pending == 16, "\(c)")
        #expect(try store.status().trials.allSatisfy { $0.attempts == 0 })
    }

    @Test func silentWorkerAfterStartingLosesItsTrialAndSpendsTheAttempt() throws {
        let store = try testStore(trials: 1)
        let id = try store.trialIDs()[0]
        var d = Drive(store)
        let l = leases(d.from("w1", ready("w1"), 0))[0]
        _ = d.from("w1", .heartbeat(Heartbeat(lease: LeaseRef(l), progress: 1)), 2)
        _ = d.tick(4.9)
        #expect(try store.trial(id)?.state == .leased)
        let out = d.tick(5.1)
        #expect(try store.trial(id)?.state == .pending)
        #expect(logs(out).contains { $0.contains("re-queued \(id)") })
        #expect(d.c.workers.isEmpty)
        let again = leases(d.from("w2", ready("w2"), 6))
        #expect(again.map(\.attempt) == [2])
        #expect(again[0].id > l.id)
    }

    @Test func stalledProgressCancelsAndRequeues() throws {
        let store = try testStore(trials: 1)
        var settings = CoordinatorSettings()
        settings.stallTimeout = 10
        var d = Drive(store, settings)
        let l = leases(d.from("w", ready("w"), 0))[0]
        let ref = LeaseRef(l)
        for s in stride(from: 1.0, through: 9, by: 1) { _ = d.from("w", .heartbeat(Heartbeat(lease: ref, progress: Int(s))), s) }
        // Alive but stuck: heartbeats keep coming, the counter stays at 9.
        var out: [Coordinator.Directive] = []
        for s in stride(from: 10.0, through: 18.5, by: 0.5) {
            _ = d.from("w", .heartbeat(Heartbeat(lease: ref, progress: 9)), s)
            out += d.tick(s)
        }
        #expect(cancels(out).isEmpty)
        out = d.tick(19.1)
        #expect(cancels(out) == [l.trialID])
        #expect(try store.trial(l.trialID)?.state == .pending)
        // No new lease until the worker confirms the cancellation.
        #expect(leases(d.tick(19.2)).isEmpty)
        let back = d.from("w", .fail(FailBody(lease: ref, reason: "cancelled", retryable: true)), 19.5)
        #expect(leases(back).map(\.attempt) == [2])
    }

    @Test func timeLimitCancelsEvenWithProgress() throws {
        let store = try testStore(trials: 1)
        var settings = CoordinatorSettings()
        settings.timeLimit = 5
        var d = Drive(store, settings)
        let ref = LeaseRef(leases(d.from("w", ready("w"), 0))[0])
        var out: [Coordinator.Directive] = []
        for s in stride(from: 0.5, through: 4.5, by: 0.5) {
            _ = d.from("w", .heartbeat(Heartbeat(lease: ref, progress: Int(s * 10))), s)
            out += d.tick(s)
        }
        #expect(cancels(out).isEmpty)
        _ = d.from("w", .heartbeat(Heartbeat(lease: ref, progress: 99)), 5.1)
        #expect(cancels(d.tick(5.1)) == [ref.trialID])
        #expect(try store.trial(ref.trialID)?.state == .pending)
    }

    @Test func goodbyeReleasesWithoutSpendingAnAttempt() throws {
        let store = try testStore(trials: 1, maxAttempts: 1)
        var d = Drive(store)
        let ref = LeaseRef(leases(d.from("w", ready("w"), 0))[0])
        _ = d.from("w", .heartbeat(Heartbeat(lease: ref, progress: 3)), 1)
        _ = d.from("w", .disconnect(Disconnect(reason: "stopping", sweepDone: false)), 2)
        let t = try #require(try store.trial(ref.trialID))
        #expect(t.state == .pending && t.attempts == 0)
    }

    @Test func restartedCoordinatorLetsTheRunningWorkerReadoptItsLease() throws {
        let store = try testStore(trials: 3)
        var first = Drive(store)
        let l = leases(first.from("w", ready("w"), 0))[0]
        let reserved = try #require(first.c.workers[PeerID("w")]?.next)
        _ = first.from("w", .heartbeat(Heartbeat(lease: LeaseRef(l), progress: 2)), 1)
        // The coordinator dies; a new one opens the same store: the lease and the reservation are orphans.
        var second = Drive(store, start: 10)
        #expect(second.c.orphans.keys.sorted() == [l.id, reserved.id])
        // Another worker arrives during the grace window: it gets the third trial, never these.
        let other = leases(second.from("v", ready("v"), 10.5))
        #expect(other.count == 1 && other[0].trialID != l.trialID)
        let out = second.from("w", ready("w", running: LeaseRef(l)), 11)
        #expect(leases(out).isEmpty && cancels(out).isEmpty)
        #expect(logs(out).contains { $0.contains("re-adopted") })
        // Well past the grace window: the lease is still its worker's.
        _ = second.from("w", .heartbeat(Heartbeat(lease: LeaseRef(l), progress: 5)), 30)
        _ = second.tick(30)
        #expect(try store.trial(l.trialID)?.state == .leased)
        #expect(acks(second.from("w", resultMessage(l), 31)).count == 1)
        #expect(try store.trial(l.trialID)?.attempts == 1)
    }

    @Test func aResultWaitingInTheOutboxSurvivesARestart() throws {
        let store = try testStore(trials: 1)
        var first = Drive(store)
        let l = leases(first.from("w", ready("w"), 0))[0]
        _ = first.from("w", .heartbeat(Heartbeat(lease: LeaseRef(l), progress: 2)), 1)
        var second = Drive(store, start: 10)
        let out = second.from("w", ready("w", finished: [LeaseRef(l)]), 11)
        #expect(leases(out).isEmpty)
        #expect(try store.trial(l.trialID)?.state == .leased)
        #expect(exitCode(second.from("w", resultMessage(l), 11.1)) == 0)
        #expect(try store.trial(l.trialID)?.attempts == 1)
    }

    @Test func leasesWhoseWorkersDoNotReturnAreRequeuedAfterTheGrace() throws {
        let store = try testStore(trials: 2)
        var first = Drive(store)
        let started = leases(first.from("w", ready("w"), 0))[0]
        _ = first.from("w", .heartbeat(Heartbeat(lease: LeaseRef(started), progress: 1)), 1)
        let unstarted = leases(first.from("v", ready("v"), 1))[0]
        let settings = CoordinatorSettings()
        var second = Drive(store, settings, start: 10)
        _ = second.tick(10 + settings.adoptionGrace - 0.1)
        #expect(try store.counts().leased == 2)
        let out = second.tick(10 + settings.adoptionGrace + 0.1)
        #expect(try store.counts().pending == 2, "\(logs(out))")
        #expect(try store.trial(started.trialID)?.attempts == 1)
        #expect(try store.trial(unstarted.trialID)?.attempts == 0)
    }

    @Test func anotherWorkerClaimingALeaseCannotCancelIt() throws {
        let store = try testStore(trials: 2)
        var d = Drive(store)
        let l = leases(d.from("w1", ready("w1"), 0))[0]
        _ = d.from("w1", .heartbeat(Heartbeat(lease: LeaseRef(l), progress: 1)), 0.5)
        let out = d.from("w2", ready("w2", running: LeaseRef(l)), 1)
        #expect(cancels(out) == [l.trialID])  // w2 is told to stop what it claims to run
        #expect(d.c.workers[PeerID("w1")]?.lease?.id == l.id)
        let t = try #require(try store.trial(l.trialID))
        #expect(t.state == .leased && t.worker == "w1" && t.attempts == 1)
        // w1 re-registering with its lease keeps it: no attempt spent, no second lease.
        let again = d.from("w1", ready("w1", running: LeaseRef(l)), 2)
        #expect(leases(again).isEmpty && cancels(again).isEmpty)
        #expect(try store.trial(l.trialID)?.attempts == 1)
    }

    @Test func readyFromAPeerHoldingAnUnstartedLeaseGetsThatLeaseAgain() throws {
        let store = try testStore(trials: 2)
        var d = Drive(store)
        let first = leases(d.from("w", ready("w"), 0))
        let reserved = try #require(d.c.workers[PeerID("w")]?.next)
        let again = leases(d.from("w", ready("w"), 1))
        #expect(again == first)
        #expect(d.c.workers[PeerID("w")]?.next == reserved, "re-registering keeps the reservation")
        #expect(try store.counts() == .init(pending: 0, leased: 2))
        #expect(try store.trial(first[0].trialID)?.attempts == 0)
    }

    @Test func permanentFailureEndsWithNonZeroExit() throws {
        let store = try testStore(trials: 1)
        var d = Drive(store)
        let ref = LeaseRef(leases(d.from("w", ready("w"), 0))[0])
        let out = d.from("w", .fail(FailBody(lease: ref, reason: "NaN", retryable: false)), 1)
        #expect(try store.trial(ref.trialID)?.state == .failed)
        #expect(exitCode(out) == 2)
    }

    @Test func gracefulShutdownWaitsThenRequeuesWithoutSpendingAttempts() throws {
        let store = try testStore(trials: 3, maxAttempts: 1)
        var settings = CoordinatorSettings()
        settings.shutdownGrace = 5
        var d = Drive(store, settings)
        let a = leases(d.from("w1", ready("w1"), 0))[0]
        let b = leases(d.from("w2", ready("w2"), 0))[0]
        _ = d.from("w2", .heartbeat(Heartbeat(lease: LeaseRef(b), progress: 1)), 0.5)
        _ = d.c.onShutdownRequested(now: at(1))
        // w1 finishes inside the grace period: no new lease for it.
        #expect(leases(d.from("w1", resultMessage(a), 2)).isEmpty)
        _ = d.from("w2", .heartbeat(Heartbeat(lease: LeaseRef(b), progress: 2)), 3)
        #expect(exitCode(d.tick(3)) == nil)
        _ = d.from("w2", .heartbeat(Heartbeat(lease: LeaseRef(b), progress: 3)), 5.5)
        let end = d.tick(6.1)
        #expect(exitCode(end) == 130)
        #expect(try store.trial(a.trialID)?.state == .done)
        let tb = try #require(try store.trial(b.trialID))
        #expect(tb.state == .pending && tb.attempts == 0, "max_attempts 1 and Ctrl-C: the trial waits, it did not fail")
        #expect(logs(end).contains { $0.contains("no attempt spent") })
    }

    @Test func malformedFramesAreDroppedWithoutStateChange() throws {
        let store = try testStore(trials: 1)
        var c = Coordinator(settings: CoordinatorSettings(), store: store)
        let garbage: [[[UInt8]]] = [[], [[1, 2, 3]], [Array("GET / HTTP/1.1".utf8), [], []],
                                     [Array(Wire.version.utf8), Array("READY".utf8), Array("{not json".utf8)],
                                     [Array(Wire.version.utf8), Array("HEARTBEAT".utf8), [UInt8](repeating: 32, count: Wire.maxBodyBytes + 1)]]
        for frames in garbage {
            let out = c.onMessage(from: PeerID("g"), identity: "zmq:g", frames: frames, now: at(0))
            #expect(leases(out).isEmpty)
            #expect(out.contains { if case .log(.warning, _) = $0 { return true } else { return false } })
        }
        #expect(c.workers.isEmpty)
        #expect(try store.counts().pending == 1)
    }

    @Test func peerTextCannotForgeLogLines() throws {
        let store = try testStore(trials: 1)
        var d = Drive(store)
        let bad = d.from("x", ready("evil\n2026-01-01T00:00:00Z notice fsweep: sweep finished"), 0)
        #expect(errors(bad).map(\.code) == ["bad-worker-id"])
        let ref = LeaseRef(leases(d.from("w", ready("w"), 0))[0])
        let out = d.from("w", .fail(FailBody(lease: ref, reason: "boom\nfake line\u{1b}[2J", retryable: true)), 1)
        #expect(logs(bad + out).allSatisfy { !$0.contains("\n") && !$0.contains("\u{1b}") })
        #expect(logs(out).contains { $0.contains("boom\\nfake line\\u{1b}[2J") })
    }

    @Test func thousandIdleWorkersCostOneStoreQueryPerSecond() throws {
        let store = FaultyStore(try testStore(trials: 1))
        var d = Drive(store)
        let l = leases(d.from("busy", ready("busy"), 0))[0]
        _ = d.from("busy", .heartbeat(Heartbeat(lease: LeaseRef(l), progress: 1)), 0)
        for i in 0..<1000 { _ = d.from("w\(i)", ready("w\(i)"), 0) }
        let before = store.grantCalls
        for k in 1...9 { _ = d.tick(Double(k) * 0.1) }
        #expect(store.grantCalls - before <= 1)
        #expect(d.c.workers.count == 1001)
    }
}
