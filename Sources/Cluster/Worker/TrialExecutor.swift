import Foundation

/// How a trial ended on the worker.
public enum TrialOutcome: Sendable, Equatable {
    case finished(WireResult)
    case failed(reason: String, retryable: Bool)
}

/// Runs one leased trial on the worker's training thread. `RunnerExecutor` adapts any Sweeps
/// `TrialRunner` (built-in or external command) to this.
public protocol TrialExecutor: Sendable {
    /// Runs the trial; calls `progress` once per epoch and polls `isCancelled` between batches.
    func execute(_ lease: LeaseBody,
                 progress: @escaping @Sendable (_ epoch: Int, _ epochs: Int, _ metrics: [String: Double]) -> Void,
                 isCancelled: @escaping @Sendable () -> Bool) -> TrialOutcome
}
