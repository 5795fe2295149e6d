import Foundation
import Sweeps
import Trials

/// What the coordinator needs from durable storage: the SQLite `SweepStore` in production; unit tests wrap
/// it to inject failures. Every call that changes a trial checks the lease's fencing id and owner in the same
/// transaction. Calls come from the coordinator's one shell thread.
public protocol CoordinatorStore: AnyObject, Sendable {
    /// Leases the next pending trial to `owner`, or nil when none is pending.
    func grantLease(to owner: LeaseOwner, now: Date) throws -> Lease?
    /// The owner reported work under the lease (spends its attempt once); false if the lease is not current.
    func startLease(_ leaseID: Int64, owner: LeaseOwner, now: Date) throws -> Bool
    /// Leases recorded as live (what a restarted coordinator offers back to reconnecting workers).
    func recordedLeases() throws -> [Lease]
    /// A reconnecting worker claims a lease: true when it is the trial's current lease and `owner` holds it.
    func adopt(_ leaseID: Int64, trialID: String, owner: LeaseOwner, now: Date) throws -> Bool
    /// Takes a lease back; `charge` says whether a started execution counts as an attempt.
    func release(_ leaseID: Int64, reason: String, charge: Bool, now: Date) throws -> ReleaseOutcome
    /// Records a failure reported by the lease's owner; false when refused.
    func fail(trialID: String, leaseID: Int64, owner: LeaseOwner, reason: String, retryable: Bool, now: Date) throws -> Bool
    /// Streams one epoch's metrics from the lease's owner; false when refused.
    func recordProgress(trialID: String, leaseID: Int64, owner: LeaseOwner, progress: EpochProgress, now: Date) throws -> Bool
    /// Whether a result under this lease would be stored, without storing it (before accepting a large upload).
    func judgeResult(trialID: String, leaseID: Int64, owner: LeaseOwner) throws -> CompletionOutcome
    /// Commits a result in one transaction (owner and lease checked inside it).
    func complete(trialID: String, leaseID: Int64, owner: LeaseOwner, result: TrialResult, now: Date) throws -> CompletionOutcome
    /// Runs `body` as one group commit: every call above made inside it commits together when it returns
    /// (before any reply derived from them is sent). Throws when the commit fails, and then nothing is durable.
    func batch<T>(_ body: () throws -> T) throws -> T
    /// Trial counts by state.
    func counts() throws -> SweepStore.Counts
    /// The store's status as stable JSON, for `STATUS` requests.
    func statusJSON() throws -> String
}

extension SweepStore: CoordinatorStore {
    public func statusJSON() throws -> String { try status().jsonText() }
}
