import Foundation

/// A trial handed to a worker by the store.
public struct LeaseGrant: Sendable, Equatable {
    public var trialID: String
    public var configJSON: String
    public var attempt: Int
    public var deadline: Date
    public init(trialID: String, configJSON: String, attempt: Int, deadline: Date) {
        self.trialID = trialID
        self.configJSON = configJSON
        self.attempt = attempt
        self.deadline = deadline
    }
}

/// How many trials are in each state; the coordinator finishes when nothing is pending or leased.
public struct TrialCounts: Sendable, Equatable, Codable {
    public var pending: Int
    public var leased: Int
    public var done: Int
    public var failed: Int
    public init(pending: Int, leased: Int, done: Int, failed: Int) {
        self.pending = pending
        self.leased = leased
        self.done = done
        self.failed = failed
    }
    public var total: Int { pending + leased + done + failed }
}

/// What the coordinator needs from durable storage. The real one is the SQLite `SweepStore`
/// (see `SweepStore+CoordinatorStore.swift`); unit tests use an in-memory double. Calls come from the
/// coordinator's one shell thread, so implementations need not be re-entrant.
public protocol CoordinatorStore: AnyObject, Sendable {
    /// Leases the next pending trial to `worker`, or nil when none is pending.
    func leaseNext(worker: String, leaseSeconds: Double, now: Date) throws -> LeaseGrant?
    /// Pushes a running trial's lease deadline forward (heartbeats and progress).
    func extendLease(trialID: String, worker: String, until: Date) throws
    /// Streams one epoch's metrics into the store.
    func recordProgress(trialID: String, epoch: Int, epochs: Int, metrics: [String: Double]) throws
    /// Commits a result in one transaction; false when the trial was already done (a duplicate).
    func complete(trialID: String, attempt: Int, worker: String, result: WireResult) throws -> Bool
    /// Records a failure; retryable ones go back to pending until attempts run out.
    func fail(trialID: String, worker: String, reason: String, retryable: Bool) throws
    /// Returns expired leases to pending (e.g. leases left by a coordinator that crashed).
    func requeueExpired(now: Date) throws -> [String]
    /// Returns one leased trial to pending (its worker vanished or stalled).
    func requeue(trialID: String, reason: String) throws
    /// Trial counts by state.
    func counts() throws -> TrialCounts
    /// The store's status as stable JSON, for `STATUS` requests.
    func statusJSON() throws -> String
}
