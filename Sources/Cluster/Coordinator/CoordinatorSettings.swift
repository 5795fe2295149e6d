import Foundation

/// Coordinator timing and limits; defaults follow DESIGN.md (heartbeat 1 s, liveness 3).
public struct CoordinatorSettings: Sendable {
    /// Seconds between heartbeats to each worker.
    public var heartbeatInterval: Double = 1
    /// Missed heartbeat intervals before a worker counts as gone and its trial is re-queued.
    public var liveness: Int = 3
    /// Seconds a trial may go without any progress (epochs or batches) before it is cancelled and re-queued.
    public var trialTimeout: Double = 900
    /// Wall-clock limit per attempt (the spec's `runner.trial_timeout`); nil = none.
    public var wallClockLimit: Double?
    /// Store lease length; heartbeats renew it, so it only matters after a coordinator crash.
    public var leaseSeconds: Double = 30
    /// Keep serving when every trial is done (for a grid that grows while the coordinator runs).
    public var keepAlive: Bool = false
    /// Seconds a graceful shutdown waits for running trials before re-queueing them.
    public var shutdownGrace: Double = 30
    /// Workers beyond this are refused (bounded memory).
    public var maxWorkers: Int = 5000

    public init() {}

    /// Seconds of silence after which a worker is declared gone.
    public var expiry: Double { heartbeatInterval * Double(liveness) }
}
