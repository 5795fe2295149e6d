import Foundation
import Trials
import Testing
@testable import Cluster
import Sweeps

/// The fault benchmark's invariant checks on evidence from a real store, driven through the lease transitions
/// a run produces: clean histories pass, and each kind of fault the checks exist for is reported by name.
@Suite struct ChaosAuditTests {
    let w0 = LeaseOwner(worker: "chaos-w0", identity: "zmq:chaos-w0")
    let w1 = LeaseOwner(worker: "chaos-w1", identity: "zmq:chaos-w1")
    static func at(_ s: Double) -> Date { Date(timeIntervalSince1970: 1_000 + s) }

    /// A finished trial's result as the benchmark's runner reports it.
    static func result(runner: Int32) -> TrialResult {
        TrialResult(metrics: ["test_accuracy": 0.5, "runner_pid": Double(runner)], durationSeconds: 1)
    }

    func evidence(_ store: SweepStore, _ executions: [ChaosRunnerLog.Execution], kills: [WorkerKill] = [],
                  hostile: HostileTally = HostileTally()) throws -> ChaosEvidence {
        ChaosEvidence(maxAttempts: try store.maxAttempts(), records: try store.records(), results: try store.resultRows(),
                      leases: try store.leaseHistory(), executions: executions, workerKills: kills,
                      workerIDs: ["chaos-w0", "chaos-w1"], hostile: hostile)
    }

    /// Two trials, each leased, started and completed once (runner pids 101 and 102 on worker pids 11 and 12).
    func cleanRun() throws -> (SweepStore, [ChaosRunnerLog.Execution]) {
        let store = try testStore(trials: 2)
        var runs: [ChaosRunnerLog.Execution] = []
        for (n, owner) in [w0, w1].enumerated() {
            let lease = try #require(try store.grantLease(to: owner, now: Self.at(Double(n))))
            #expect(try store.startLease(lease.id, owner: owner, now: Self.at(Double(n) + 0.5)))
            let pid = Int32(101 + n)
            #expect(try store.complete(trialID: lease.trialID, leaseID: lease.id, owner: owner, result: Self.result(runner: pid),
                                       now: Self.at(Double(n) + 1)) == .stored)
            runs.append(.init(trialID: lease.trialID, pid: pid, workerPID: Int32(11 + n), ended: true, line: n))
        }
        return (store, runs)
    }

    /// A trial whose first execution (runner 101 on chaos-w0) is lost, then runs again on chaos-w1 (runner 103).
    func rerun() throws -> (SweepStore, [ChaosRunnerLog.Execution], WorkerKill) {
        let store = try testStore(trials: 1)
        let first = try #require(try store.grantLease(to: w0, now: Self.at(0)))
        #expect(try store.startLease(first.id, owner: w0, now: Self.at(0.5)))
        #expect(try store.release(first.id, reason: "worker chaos-w0 silent", charge: true, now: Self.at(5)) == .requeued)
        let second = try #require(try store.grantLease(to: w1, now: Self.at(6)))
        #expect(try store.startLease(second.id, owner: w1, now: Self.at(6.5)))
        #expect(try store.complete(trialID: second.trialID, leaseID: second.id, owner: w1, result: Self.result(runner: 103),
                                   now: Self.at(7)) == .stored)
        let runs: [ChaosRunnerLog.Execution] = [.init(trialID: first.trialID, pid: 101, workerPID: 11, ended: false, line: 0),
                                                .init(trialID: first.trialID, pid: 103, workerPID: 12, ended: true, line: 1)]
        let kill = WorkerKill(at: Self.at(2), workerID: "chaos-w0", pid: 11, runnerGroups: [101],
                              interrupted: [.init(trialID: first.trialID, runner: 101)])
        return (store, runs, kill)
    }

    func invariants(_ e: ChaosEvidence) -> Set<String> { Set(ChaosAudit.check(e).1.map(\.invariant)) }

    @Test func aCleanRunPasses() throws {
        let (store, runs) = try cleanRun()
        let (figures, violations) = ChaosAudit.check(try evidence(store, runs))
        #expect(violations.isEmpty, "\(violations)")
        #expect(figures.executions == 2 && figures.duplicates == 0)
    }

    @Test func aSecondRunIsExplainedOnlyByAWorkerKillThatInterruptedTheFirst() throws {
        let (store, runs, kill) = try rerun()
        let (figures, violations) = ChaosAudit.check(try evidence(store, runs, kills: [kill]))
        #expect(violations.isEmpty, "\(violations)")
        #expect(figures.duplicates == 1 && figures.explained == 1 && figures.unexplained == 0 && figures.attemptsSpentByKills == 1)
        // Without the kill, or with a kill that interrupted another execution, or a kill after the lease ended.
        var elsewhere = kill
        elsewhere.interrupted = [.init(trialID: "other", runner: 101)]
        var late = kill
        late.at = Self.at(9)
        #expect(invariants(try evidence(store, runs)) == ["duplicates-explained-by-worker-kills", "attempts-consistent"])
        #expect(invariants(try evidence(store, runs, kills: [elsewhere])) == ["duplicates-explained-by-worker-kills"])
        #expect(invariants(try evidence(store, runs, kills: [late])) == ["attempts-consistent"])
        let (_, unexplained) = ChaosAudit.check(try evidence(store, runs))
        let text = unexplained.map(\.detail).joined()
        #expect(text.contains("start \(runs[0].trialID) 101 11") && text.contains("(no end)"), "the evidence names the log lines: \(text)")
    }

    @Test func forgedMissingOrDoubledResultsAreReported() throws {
        let (store, runs) = try cleanRun()
        var e = try evidence(store, runs)
        e.results[0].metrics["FORGED"] = 1
        #expect(invariants(e) == ["no-forged-result"])
        e = try evidence(store, runs)
        e.results[1].metrics["runner_pid"] = 999  // a pid that never ran that trial
        #expect(invariants(e) == ["no-forged-result"])
        e = try evidence(store, runs)
        e.results[0].worker = "intruder-1"
        #expect(invariants(e) == ["no-forged-result"])
        e = try evidence(store, runs)
        e.results.append(e.results[0])
        #expect(invariants(e) == ["one-result-each"])
        e = try evidence(store, runs)
        e.results.removeLast()
        #expect(invariants(e).contains("one-result-each"))
        e = try evidence(store, runs)
        e.hostile.forgedAcknowledged = 1
        #expect(invariants(e) == ["forged-refused"])
    }

    @Test func failedUnfinishedAndHostileStartedLeasesAreReported() throws {
        let store = try testStore(trials: 3)
        let intruder = LeaseOwner(worker: "chaos-w0", identity: "zmq:hostile-3")  // a real worker's id on another connection
        let a = try #require(try store.grantLease(to: intruder, now: Self.at(0)))
        #expect(try store.startLease(a.id, owner: intruder, now: Self.at(1)))
        #expect(try store.release(a.id, reason: "gone", charge: false, now: Self.at(2)) == .requeued)
        let b = try #require(try store.grantLease(to: w0, now: Self.at(3)))
        #expect(try store.fail(trialID: b.trialID, leaseID: b.id, owner: w0, reason: "broken", retryable: false, now: Self.at(4)))
        let found = invariants(try evidence(store, []))
        #expect(found.isSuperset(of: ["no-trial-failed", "every-trial-done", "hostile-leases-never-start", "one-result-each"]), "\(found)")
        _ = try store.grantLease(to: w1, now: Self.at(5))
        #expect(invariants(try evidence(store, [])).contains("leases-closed"))
        var e = try evidence(store, [])
        e.processProblems = ["the coordinator ended on its own with signal 11"]
        #expect(invariants(e).contains("processes"))
    }
}
