import Foundation
@testable import Cluster

/// In-memory `CoordinatorStore` for state-machine tests (a test double, not used outside tests).
final class StoreDouble: CoordinatorStore, @unchecked Sendable {
    // Safe: tests drive the coordinator from one thread; the lock guards the occasional cross-thread read.
    enum State: Equatable { case pending, leased(String), done, failed }
    struct Trial { var id: String; var state: State; var attempts: Int; var deadline: Date? }
    private let lock = NSLock()
    var trials: [Trial]
    var completions: [String: Int] = [:]
    var maxAttempts = 3
    var failNextComplete = false

    init(ids: [String]) { trials = ids.map { Trial(id: $0, state: .pending, attempts: 0, deadline: nil) } }

    private func index(_ id: String) -> Int? { trials.firstIndex { $0.id == id } }

    func leaseNext(worker: String, leaseSeconds: Double, now: Date) throws -> LeaseGrant? {
        lock.lock(); defer { lock.unlock() }
        guard let i = trials.firstIndex(where: { $0.state == .pending }) else { return nil }
        trials[i].state = .leased(worker)
        trials[i].attempts += 1
        trials[i].deadline = now.addingTimeInterval(leaseSeconds)
        return LeaseGrant(trialID: trials[i].id, configJSON: "{\"id\":\"\(trials[i].id)\"}", attempt: trials[i].attempts, deadline: trials[i].deadline!)
    }
    func extendLease(trialID: String, worker: String, until: Date) throws {
        lock.lock(); defer { lock.unlock() }
        if let i = index(trialID), trials[i].state == .leased(worker) { trials[i].deadline = until }
    }
    func recordProgress(trialID: String, epoch: Int, epochs: Int, metrics: [String: Double]) throws {}
    func complete(trialID: String, attempt: Int, worker: String, result: WireResult) throws -> Bool {
        lock.lock(); defer { lock.unlock() }
        if failNextComplete { failNextComplete = false; throw ClusterError(code: "io", message: "disk full") }
        guard let i = index(trialID) else { return false }
        if trials[i].state == .done { return false }
        trials[i].state = .done
        completions[trialID, default: 0] += 1
        return true
    }
    func fail(trialID: String, worker: String, reason: String, retryable: Bool) throws {
        lock.lock(); defer { lock.unlock() }
        guard let i = index(trialID) else { return }
        trials[i].state = retryable && trials[i].attempts < maxAttempts ? .pending : .failed
    }
    func requeueExpired(now: Date) throws -> [String] {
        lock.lock(); defer { lock.unlock() }
        var out: [String] = []
        for i in trials.indices {
            if case .leased = trials[i].state, let d = trials[i].deadline, d < now {
                trials[i].state = .pending
                out.append(trials[i].id)
            }
        }
        return out
    }
    func requeue(trialID: String, reason: String) throws {
        lock.lock(); defer { lock.unlock() }
        if let i = index(trialID), case .leased = trials[i].state {
            trials[i].state = trials[i].attempts < maxAttempts ? .pending : .failed
        }
    }
    func counts() throws -> TrialCounts {
        lock.lock(); defer { lock.unlock() }
        var c = TrialCounts(pending: 0, leased: 0, done: 0, failed: 0)
        for t in trials {
            switch t.state {
            case .pending: c.pending += 1
            case .leased: c.leased += 1
            case .done: c.done += 1
            case .failed: c.failed += 1
            }
        }
        return c
    }
    func statusJSON() throws -> String {
        let c = try counts()
        return "{\"done\":\(c.done),\"pending\":\(c.pending)}"
    }
    func state(_ id: String) -> State? {
        lock.lock(); defer { lock.unlock() }
        return index(id).map { trials[$0].state }
    }
}
