import Foundation

/// Coordinator timing and limits; defaults as in docs/DESIGN.md "Protocol" (heartbeat 1 s, liveness 3).
public struct CoordinatorSettings: Sendable {
    /// Seconds between heartbeats to each worker.
    public var heartbeatInterval: Double = 1
    /// Missed heartbeat intervals before a worker counts as gone and its trial is re-queued.
    public var liveness: Int = 3
    /// Seconds a running trial may go without progress (epochs, training steps, runner lines) before it is
    /// cancelled and re-queued (`runner.stall_timeout`, `--stall-timeout`).
    public var stallTimeout: Double = 900
    /// Wall-clock seconds one execution of a trial may take (`runner.time_limit`, `--time-limit`); nil = none.
    public var timeLimit: Double?
    /// Keep serving when every trial is done (for a grid that grows while the coordinator runs).
    public var keepAlive: Bool = false
    /// Seconds a graceful shutdown waits for running trials before re-queueing them.
    public var shutdownGrace: Double = 30
    /// Workers beyond this are refused (bounded memory).
    public var maxWorkers: Int = 5000
    /// Largest result (array bytes) accepted; bigger ones fail their trial with a clear reason.
    public var maxResultBytes: Int = 256 << 20
    /// Total bytes of partially received results held at once; uploads beyond it wait (`busy`).
    public var uploadBudgetBytes: Int = 256 << 20
    /// Seconds a cancelled worker gets to confirm before it may take a new lease anyway.
    public var cancelGrace: Double = 10
    /// Reserve each busy worker's next lease ahead, so it leaves the moment the current one ends instead of after
    /// the commit of its result (`Coordinator.assign`). Off only in `fsweep bench cluster`, to measure what it saves.
    public var reserveAhead: Bool = true

    public init() {}

    /// Seconds of silence after which a worker is declared gone.
    public var expiry: Double { heartbeatInterval * Double(liveness) }

    /// Seconds a restarted coordinator keeps the leases it finds recorded, waiting for their workers to
    /// reconnect and re-adopt them: the liveness window plus as long again for reconnecting.
    public var adoptionGrace: Double { 2 * expiry + heartbeatInterval }
}

/// Per-trial limits given on the command line; each one set overrides the sweep file's `runner:` value.
public struct TrialLimits: Sendable, Equatable {
    public var stallTimeout: Double?
    public var timeLimit: Double?
    public init(stallTimeout: Double? = nil, timeLimit: Double? = nil) {
        self.stallTimeout = stallTimeout
        self.timeLimit = timeLimit
    }
}
