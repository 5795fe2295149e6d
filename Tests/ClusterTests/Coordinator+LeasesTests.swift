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
