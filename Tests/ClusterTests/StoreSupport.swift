import Foundation
@testable import Cluster
import Sweeps
import Trials

/// A real SQLite store of `trials` trials (ids in queue order) in a fresh directory, for state-machine tests.
func testStore(trials: Int, maxAttempts: Int = 3) throws -> SweepStore {
    let yaml = SweepSpec.tinyYAML(name: "unit", trials: trials, maxAttempts: maxAttempts)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fsweep-unit-\(UUID().uuidString.prefix(8))")
    return try SweepStore.create(in: try DirectoryLock(directory: dir), spec: try SweepSpec(yaml: yaml))
}

extension SweepStore {
    /// A trial's row as the status report has it.
    func trial(_ id: String) throws -> SweepStatus.Trial? { try status().trials.first { $0.id == id } }
    /// Trial ids in queue order.
    func trialIDs() throws -> [String] { try status().trials.map(\.id) }
}

/// The real store with failures injected and lease requests counted (a test double around the real thing).
final class FaultyStore: CoordinatorStore, @unchecked Sendable {
    // Safe: tests drive the coordinator from one thread; the counters are only read after it returns.
    let real: SweepStore
    var failNextComplete = false
    var failNextRelease = false
    var failNextFail = false
    var grantCalls = 0
    init(_ real: SweepStore) { self.real = real }

    func grantLease(to owner: LeaseOwner, now: Date) throws -> Lease? { grantCalls += 1; return try real.grantLease(to: owner, now: now) }
    func startLease(_ leaseID: Int64, owner: LeaseOwner, now: Date) throws -> Bool { try real.startLease(leaseID, owner: owner, now: now) }
    func recordedLeases() throws -> [Lease] { try real.recordedLeases() }
    func adopt(_ leaseID: Int64, trialID: String, owner: LeaseOwner, now: Date) throws -> Bool {
        try real.adopt(leaseID, trialID: trialID, owner: owner, now: now)
    }
    func release(_ leaseID: Int64, reason: String, charge: Bool, now: Date) throws -> ReleaseOutcome {
        if failNextRelease { failNextRelease = false; throw ClusterError(code: "io", message: "disk full") }
        return try real.release(leaseID, reason: reason, charge: charge, now: now)
    }
    func fail(trialID: String, leaseID: Int64, owner: LeaseOwner, reason: String, retryable: Bool, now: Date) throws -> Bool {
        if failNextFail { failNextFail = false; throw ClusterError(code: "io", message: "disk full") }
        return try real.fail(trialID: trialID, leaseID: leaseID, owner: owner, reason: reason, retryable: retryable, now: now)
    }
    func recordProgress(trialID: String, leaseID: Int64, owner: LeaseOwner, progress: EpochProgress, now: Date) throws -> Bool {
        try real.recordProgress(trialID: trialID, leaseID: leaseID, owner: owner, progress: progress, now: now)
    }
    func judgeResult(trialID: String, leaseID: Int64, owner: LeaseOwner) throws -> CompletionOutcome {
        try real.judgeResult(trialID: trialID, leaseID: leaseID, owner: owner)
    }
    func complete(trialID: String, leaseID: Int64, owner: LeaseOwner, result: TrialResult, now: Date) throws -> CompletionOutcome {
        if failNextComplete { failNextComplete = false; throw ClusterError(code: "io", message: "disk full") }
        return try real.complete(trialID: trialID, leaseID: leaseID, owner: owner, result: result, now: now)
    }
    func batch<T>(_ body: () throws -> T) throws -> T { try real.batch(body) }
    func counts() throws -> SweepStore.Counts { try real.counts() }
    func statusJSON() throws -> String { try real.statusJSON() }
}
