import Foundation
import Trials
import Sweeps

/// `fsweep bench chaos`: the README's fault guarantees under random faults, with real processes and sockets.
///
/// A coordinator process serves a sweep of short shell-runner trials to worker processes on loopback. For
/// `seconds`, at random intervals, workers are killed with `kill -9` (with their runners, as when a machine
/// dies) and restarted with the same id and outbox; the coordinator is killed with `kill -9` and restarted
/// with the same command (it resumes the store, its workers re-adopt their leases); and a hostile peer forges
/// results and failures, floods READYs, and sends oversized and malformed frames. Then the sweep finishes
/// without faults and `ChaosAudit` checks the invariants from the store (opened read-only) and the runner log.
///
/// The one steering of the randomness: a worker whose trial has no attempt to spare is not killed (the kill
/// would fail that trial by design — `max_attempts` is a promise to give up), so every trial can finish.
public enum ChaosBenchmark {
    /// Runs the benchmark; `progress` gets a line every ten seconds. Throws only when the run cannot be set up;
    /// broken invariants are in the report's `violations`.
    public static func run(_ settings: ChaosSettings, progress: @escaping (String) -> Void) throws -> ChaosReport {
        if let problem = settings.problem { throw ClusterError(code: "chaos", message: problem) }
        let run = try ChaosRun(settings: settings, progress: progress)
        return try run.execute()
    }

    /// A free loopback TCP port (bound through ZeroMQ's wildcard port, then released).
    static func freePort() throws -> Int {
        let context = try ZMQContext()
        let s = try ZMQSocket(context, .router)
        try s.bind("tcp://127.0.0.1:*")
        let endpoint = try s.lastEndpoint()
        s.close()
        guard let port = Int(endpoint.split(separator: ":").last ?? "") else {
            throw ClusterError(code: "chaos", message: "could not find a free port (got \(endpoint))")
        }
        return port
    }
}
