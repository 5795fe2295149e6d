import Foundation
import Testing
@testable import Cluster
import Sweeps
import Trials

/// The reserved next lease (`WorkerEntry.next`): granted ahead, sent the moment the current lease ends, and
/// before that end commits only when the reservation itself was committed earlier.
@Suite struct CoordinatorLeasesTests {
    private let w = PeerID("w")

    @Test func theReservedLeaseLeavesBeforeTheResultCommitsAndTheNextIsReserved() throws {
        let store = try testStore(trials: 3)
        let ids = try store.trialIDs()
        var d = Drive(store)
        let first = leases(d.from("w", ready("w"), 0))
        #expect(sentNow(d.from("w", ready("w"), 0)).isEmpty, "a re-sent first lease waits for its commit like any reply")
        let reserved = try #require(d.c.workers[w]?.next)
        #expect(first.map(\.trialID) == [ids[0]] && reserved.trialID == ids[1])
        #expect(try store.trial(ids[1])?.state == .leased && store.trial(ids[1])?.worker == "w")

        let out = d.from("w", resultMessage(first[0]), 1)
        // The LEASE goes out now; the ACK only after the commit.
        #expect(sentNow(out).map(\.1) == [.lease(reserved)])
        #expect(acks(out) == [Ack(lease: LeaseRef(first[0]), duplicate: false)])
        #expect(!sentNow(out).contains { if case .ack = $0.1 { return true } else { return false } })
        #expect(d.c.workers[w]?.lease == reserved && d.c.workers[w]?.next?.trialID == ids[2])
        #expect(try store.trial(ids[0])?.state == .done && store.trial(ids[1])?.attempts == 0)
    }

    @Test func aReservationGrantedInTheSameBatchWaitsForTheCommit() throws {
        let store = try testStore(trials: 3)
        var d = Drive(store)
        let first = leases(d.from("w", ready("w"), 0, commit: false))[0]
        let reserved = try #require(d.c.workers[w]?.next)
        // Its grant is not committed yet: a crash now would forget it, so the LEASE must not leave early.
        let out = d.from("w", resultMessage(first), 0.1)
        #expect(sentNow(out).isEmpty)
        #expect(leases(out) == [reserved])
    }

    @Test func aFailureAlsoHandsOverTheReservation() throws {
        let store = try testStore(trials: 2)
        var d = Drive(store)
        let first = leases(d.from("w", ready("w"), 0))[0]
        let reserved = try #require(d.c.workers[w]?.next)
        let out = d.from("w", .fail(FailBody(lease: LeaseRef(first), reason: "diverged", retryable: false)), 1)
        #expect(sentNow(out).map(\.1) == [.lease(reserved)])
        #expect(try store.trial(first.trialID)?.state == .failed)
    }

    @Test func anIdleWorkerTakesAnotherWorkersReservationWhenNothingIsPending() throws {
        let store = try testStore(trials: 2)
        var d = Drive(store)
        let a = leases(d.from("a", ready("a"), 0))[0]
        let reserved = try #require(d.c.workers[PeerID("a")]?.next)
        let b = leases(d.from("b", ready("b"), 1))
        #expect(b.map(\.trialID) == [reserved.trialID])
        #expect(d.c.workers[PeerID("a")]?.next == nil && d.c.reservations == 0)
        let t = try #require(try store.trial(reserved.trialID))
        #expect(t.state == .leased && t.worker == "b" && t.attempts == 0)
        #expect(b[0].id > reserved.id, "a fresh fencing id: the moved reservation's id is never valid for b")
        #expect(try store.trial(a.trialID)?.worker == "a")
    }

    @Test func aWorkerThatGoesAwayGivesBackItsReservationWithoutSpendingAnAttempt() throws {
        let store = try testStore(trials: 2)
        var d = Drive(store)
        let first = leases(d.from("w", ready("w"), 0))[0]
        let reserved = try #require(d.c.workers[w]?.next)
        _ = d.from("w", .heartbeat(Heartbeat(lease: LeaseRef(first), progress: 1)), 1)
        _ = d.tick(1 + CoordinatorSettings().expiry + 1)
        #expect(try store.counts() == .init(pending: 2))
        #expect(try store.trial(first.trialID)?.attempts == 1)
        #expect(try store.trial(reserved.trialID)?.attempts == 0)
    }

    @Test func shuttingDownGivesBackReservationsAtOnce() throws {
        let store = try testStore(trials: 3)
        var d = Drive(store)
        let first = leases(d.from("w", ready("w"), 0))[0]
        let reserved = try #require(d.c.workers[w]?.next)
        _ = d.from("w", .heartbeat(Heartbeat(lease: LeaseRef(first), progress: 1)), 0.5)
        _ = d.c.onShutdownRequested(now: at(1))
        _ = d.tick(1)
        #expect(try store.trial(reserved.trialID)?.state == .pending)
        #expect(try store.trial(first.trialID)?.state == .leased, "the running trial may still finish")
        let out = d.from("w", resultMessage(first), 2)
        #expect(leases(out).isEmpty && acks(out).count == 1)
    }

    /// A worker with a started lease and a committed reservation.
    private func runningWithAReservation(_ store: any CoordinatorStore) throws -> (d: Drive, first: Lease, reserved: Lease) {
        var d = Drive(store)
        let first = leases(d.from("w", ready("w"), 0))[0]
        let reserved = try #require(d.c.workers[w]?.next)
        _ = d.from("w", .heartbeat(Heartbeat(lease: LeaseRef(first), progress: 1)), 0.5)
        return (d, first, reserved)
    }

    @Test func theReservedLeaseLeavesBeforeTheResultIsDecodedOrStored() throws {
        let store = try testStore(trials: 3)
        var (d, first, reserved) = try runningWithAReservation(store)
        let frames = Wire.encode(resultMessage(first))
        let ahead = d.c.leaseAhead(for: w, identity: "zmq:w", frames: frames)
        #expect(try Wire.decode(try #require(ahead)).get() == .lease(reserved))
        #expect(try store.trial(first.trialID)?.state == .leased, "nothing was stored yet")
        let out = d.c.onMessage(from: w, identity: "zmq:w", frames: frames, now: at(1))
        #expect(leases(out).isEmpty, "the reservation is not sent twice")
        #expect(acks(out) == [Ack(lease: LeaseRef(first), duplicate: false)])
        #expect(d.c.workers[w]?.lease == reserved && d.c.workers[w]?.next != nil && d.c.sentAhead == nil)
        #expect(try store.trial(first.trialID)?.state == .done)
    }

    @Test func noLeaseLeavesAheadUnlessTheMessageEndsTheLeaseHeldUnderACommittedReservation() throws {
        var (d, first, _) = try runningWithAReservation(try testStore(trials: 3))
        let other = Lease(id: first.id + 100, trialID: first.trialID, configJSON: "{}", attempt: 1, owner: first.owner)
        let whole = OutboxEntry(lease: LeaseRef(first), result: TrialResult(metrics: [:], durationSeconds: 1))
        guard case .result(let body, _) = whole.firstMessage else { Issue.record("not a RESULT"); return }
        var partial = body
        partial.payloadBytes = 8
        partial.arrays = [.init(name: "m", shape: [2])]
        let notEnding: [(String, Message, String)] = [
            ("another lease", resultMessage(other), "zmq:w"),
            ("a heartbeat", .heartbeat(Heartbeat(lease: LeaseRef(first), progress: 2)), "zmq:w"),
            ("a result with chunks to come", .result(partial, payload: [1, 2, 3, 4]), "zmq:w"),
            ("another identity", resultMessage(first), "curve:mallory"),
        ]
        for (what, message, identity) in notEnding {
            #expect(d.c.leaseAhead(for: w, identity: identity, frames: Wire.encode(message)) == nil, "\(what)")
        }
        #expect(d.c.sentAhead == nil)
        var fresh = Drive(try testStore(trials: 3))
        let l = leases(fresh.from("w", ready("w"), 0, commit: false))[0]
        #expect(fresh.c.leaseAhead(for: w, identity: "zmq:w", frames: Wire.encode(resultMessage(l))) == nil,
                "a reservation from the batch not yet committed waits")
        #expect(d.c.leaseAhead(for: w, identity: "zmq:w", frames: Wire.encode(resultMessage(first))) != nil)
    }

    /// The store fails to record the result after the reservation left: the worker runs the reservation all the
    /// same, and the lease the store still holds stays an orphan until the result, sent again, is stored.
    @Test func aResultTheStoreCannotRecordAfterTheLeaseLeftAheadKeepsItsLeaseAsAnOrphan() throws {
        let store = FaultyStore(try testStore(trials: 3))
        var (d, first, reserved) = try runningWithAReservation(store)
        store.failNextComplete = true
        let out = d.from("w", resultMessage(first), 1)
        #expect(sentNow(out).map(\.1) == [.lease(reserved)] && acks(out).isEmpty)
        #expect(d.c.workers[w]?.lease == reserved && d.c.orphans[first.id] != nil)
        #expect(try store.real.trial(first.trialID)?.state == .leased)
        let again = d.from("w", resultMessage(first), 2)
        #expect(acks(again).count == 1 && leases(again).isEmpty && d.c.orphans.isEmpty)
        #expect(try store.real.trial(first.trialID)?.state == .done && d.c.workers[w]?.lease == reserved)
    }

    /// A body the scan reads but the decoder refuses: the reservation left, so it is promoted, and the lease the
    /// message claimed to end stays an orphan (the store still holds it) instead of vanishing.
    @Test func anUndecodableResultAfterTheLeaseLeftAheadKeepsItsLeaseAsAnOrphan() throws {
        let store = try testStore(trials: 3)
        var (d, first, reserved) = try runningWithAReservation(store)
        let body = #"{"arrays":[],"durationSeconds":1,"epochs":[],"lease":{"leaseID":\#(first.id),"trialID":"\#(first.trialID)"},"metrics":"none","payloadBytes":0}"#
        let frames = [Array(Wire.version.utf8), Array("RESULT".utf8), Array(body.utf8), []]
        #expect(d.c.leaseAhead(for: w, identity: "zmq:w", frames: frames) != nil)
        let out = d.c.onMessage(from: w, identity: "zmq:w", frames: frames, now: at(1))
        #expect(errors(out).map(\.code) == ["body"] && leases(out).isEmpty)
        #expect(d.c.workers[w]?.lease == reserved && d.c.orphans[first.id] != nil)
    }

    /// A result that can never be stored fails its trial for good instead of leaving it leased in the store with
    /// no worker running it (the sweep could not finish), and the worker moves on to its reservation.
    @Test func aMalformedResultFailsItsTrial() throws {
        let store = try testStore(trials: 3)
        var (d, first, reserved) = try runningWithAReservation(store)
        var body = ResultBody(lease: LeaseRef(first), result: TrialResult(metrics: [:], durationSeconds: 1))
        body.payloadBytes = 4
        let out = d.from("w", .result(body, payload: [0, 0, 0, 0]), 1)
        #expect(errors(out).map(\.code) == ["refused"])
        let t = try #require(try store.trial(first.trialID))
        #expect(t.state == .failed && (t.error ?? "").contains("malformed result"))
        #expect(d.c.workers[w]?.lease == reserved)
    }

    /// A worker with a lease and a reservation whose lease went over its time limit (5 s) and was cancelled at 6 s.
    private func cancelledWithAReservation() throws -> (d: Drive, first: Lease, reserved: Lease) {
        var settings = CoordinatorSettings()
        settings.timeLimit = 5
        var d = Drive(try testStore(trials: 3), settings)
        let first = leases(d.from("w", ready("w"), 0))[0]
        let reserved = try #require(d.c.workers[w]?.next)
        _ = d.from("w", .heartbeat(Heartbeat(lease: LeaseRef(first), progress: 1)), 5.9)
        #expect(cancels(d.tick(6)) == [first.trialID])
        return (d, first, reserved)
    }

    @Test func aCancelledWorkerKeepsItsReservationForWhenItReportsBack() throws {
        var (d, first, reserved) = try cancelledWithAReservation()
        #expect(d.c.workers[w]?.next == reserved)
        let out = d.from("w", .fail(FailBody(lease: LeaseRef(first), reason: "cancelled", retryable: true)), 6.5)
        #expect(leases(out) == [reserved])
    }

    @Test func aReservationPromotedByATickWaitsForTheCommit() throws {
        var (d, _, reserved) = try cancelledWithAReservation()
        // The worker never confirms; after the cancel grace a tick hands over the reservation, after its commit
        // (only the RESULT or FAIL that ends a lease sends it early).
        let grace = d.c.settings.cancelGrace
        _ = d.from("w", .heartbeat(Heartbeat()), 6 + grace)
        let out = d.tick(6.5 + grace)
        #expect(leases(out) == [reserved] && sentNow(out).isEmpty)
    }

    /// The coordinator sent the reserved LEASE early and died before the batch with the result committed: the
    /// worker runs the reservation with the result still in its outbox. The restarted coordinator gives it back the
    /// lease it runs, and the outbox result is stored and ends its orphan, so the sweep can finish.
    @Test func aCrashBetweenTheEarlyLeaseAndTheCommitLosesNothing() throws {
        struct Crash: Error {}
        let store = try testStore(trials: 2)
        var first = Drive(store)
        let l1 = leases(first.from("w", ready("w"), 0))[0]
        let l2 = try #require(first.c.workers[w]?.next)
        _ = first.from("w", .heartbeat(Heartbeat(lease: LeaseRef(l1), progress: 1)), 0.5)
        var out: [Coordinator.Directive] = []
        #expect(throws: (any Error).self) {
            try store.batch {
                out = first.c.onMessage(from: w, identity: "zmq:w", resultMessage(l1), now: at(1))
                throw Crash()
            }
        }
        #expect(sentNow(out).map(\.1) == [.lease(l2)])
        #expect(try store.trial(l1.trialID)?.state == .leased, "the batch with the result never committed")
        var second = Drive(store, start: 10)
        #expect(second.c.orphans.keys.sorted() == [l1.id, l2.id])
        let back = second.from("w", ready("w", running: LeaseRef(l2), finished: [LeaseRef(l1)]), 10.5)
        #expect(logs(back).contains { $0.contains("re-adopted") } && cancels(back).isEmpty)
        #expect(second.c.workers[w]?.lease?.id == l2.id && second.c.orphans.keys.sorted() == [l1.id])
        #expect(acks(second.from("w", resultMessage(l1), 10.6)).count == 1)
        #expect(second.c.orphans.isEmpty)
        #expect(exitCode(second.from("w", resultMessage(l2), 11)) == 0)
        #expect(try store.trial(l1.trialID)?.attempts == 1 && store.trial(l2.trialID)?.attempts == 1)
    }
}
