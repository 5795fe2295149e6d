import Foundation

/// Worker identity, timing and limits; defaults as in docs/DESIGN.md "Protocol" (heartbeat 1 s, liveness 3).
public struct WorkerSettings: Sendable {
    /// Stable id: the ROUTER routing id and the name in the store. Keep it across restarts.
    public var workerID: String
    public var host: String
    public var cores: Int
    public var version: String
    public var heartbeatInterval: Double = 1
    public var liveness: Int = 3
    /// First reconnect back-off in seconds; doubles up to `maxBackoff` while the coordinator is away.
    public var initialBackoff: Double = 0.5
    public var maxBackoff: Double = 16
    /// Exit after this many trials (finished or failed) once their results are acknowledged.
    public var maxTrials: Int?
    /// Exit when this process is no longer our parent (local workers of `fsweep run` die with it).
    public var parentPID: Int32?
    /// Seconds a stopping worker waits for its trial (and the runner's processes) to stop.
    public var stopGrace: Double = 5
    /// Seconds without a word from any coordinator after which an idle worker gives up and exits with
    /// `Worker.gaveUpExitCode` (a batch job then frees its allocation); nil = wait forever. Default 5 min.
    public var giveUpAfter: Double? = 300
    /// A file the coordinator creates when the sweep is finished (next to the endpoint file under Slurm);
    /// a worker that sees it exits 0 at once instead of waiting for a coordinator that is gone.
    public var finishedMarker: String?

    public init(workerID: String, host: String, cores: Int, version: String) {
        self.workerID = workerID
        self.host = host
        self.cores = cores
        self.version = version
    }

    /// Seconds of coordinator silence before reconnecting.
    public var expiry: Double { heartbeatInterval * Double(liveness) }

    /// Seconds without an ACK or PULL before an unacknowledged result is sent again.
    public var resultRetry: Double { 2 * expiry }
}
