import Foundation
import Sweeps

/// The SQLite `SweepStore` seen through `CoordinatorStore`: the coordinator's only durable state.
public final class SweepStoreAdapter: CoordinatorStore {
    public let store: SweepStore

    public init(_ store: SweepStore) { self.store = store }

    public func leaseNext(worker: String, leaseSeconds: Double, now: Date) throws -> LeaseGrant? {
        try store.leaseNext(worker: worker, leaseSeconds: leaseSeconds, now: now).map {
            LeaseGrant(trialID: $0.trialID, configJSON: $0.configJSON, attempt: $0.attempt, deadline: $0.deadline)
        }
    }

    public func extendLease(trialID: String, worker: String, until: Date) throws {
        try store.extendLease(trialID: trialID, worker: worker, until: until)
    }

    public func recordProgress(trialID: String, epoch: Int, epochs: Int, metrics: [String: Double]) throws {
        try store.recordProgress(trialID: trialID, progress: EpochProgress(epoch: epoch, epochs: epochs, metrics: metrics))
    }

    public func complete(trialID: String, attempt: Int, worker: String, result: WireResult) throws -> Bool {
        try store.complete(trialID: trialID, attempt: attempt, worker: worker, result: TrialResult(wire: result))
    }

    public func fail(trialID: String, worker: String, reason: String, retryable: Bool) throws {
        try store.fail(trialID: trialID, worker: worker, reason: reason, retryable: retryable)
    }

    public func requeueExpired(now: Date) throws -> [String] { try store.requeueExpired(now: now) }

    public func requeue(trialID: String, reason: String) throws { try store.requeue(trialID: trialID, reason: reason) }

    public func counts() throws -> TrialCounts {
        let c = try store.counts()
        return TrialCounts(pending: c.pending, leased: c.leased, done: c.done, failed: c.failed)
    }

    public func statusJSON() throws -> String { try store.status().jsonText() }
}

extension TrialResult {
    /// The store's result from its wire form.
    public init(wire: WireResult) {
        self.init(metrics: wire.metrics, arrays: wire.arrays.map { NamedArray(name: $0.name, shape: $0.shape, data: $0.data) },
                  epochs: wire.epochs, durationSeconds: wire.durationSeconds)
    }
}

extension WireResult {
    /// The wire form of a runner's result.
    public init(_ result: TrialResult) {
        self.init(metrics: result.metrics, arrays: result.arrays.map { WireArray(name: $0.name, shape: $0.shape, data: $0.data) },
                  epochs: result.epochs, durationSeconds: result.durationSeconds)
    }
}

/// Runs leased trials through a Sweeps `TrialRunner` (the built-in trainer or an external command).
public struct RunnerExecutor: TrialExecutor {
    public let runner: any TrialRunner

    public init(_ runner: any TrialRunner) { self.runner = runner }

    public func execute(_ lease: LeaseBody,
                        progress: @escaping @Sendable (Int, Int, [String: Double]) -> Void,
                        isCancelled: @escaping @Sendable () -> Bool) -> TrialOutcome {
        let config: TrialConfig
        do { config = try TrialConfig.decode(json: lease.configJSON) } catch {
            return .failed(reason: "invalid trial config: \(error)", retryable: false)
        }
        do {
            let result = try runner.run(config, trialID: lease.trialID, progress: { p in
                progress(p.epoch, p.epochs, p.metrics)
            }, isCancelled: isCancelled)
            return .finished(WireResult(result))
        } catch let failure as TrialFailure {
            return .failed(reason: failure.reason, retryable: failure.retryable)
        } catch {
            return .failed(reason: "\(error)", retryable: true)
        }
    }
}
