import Foundation
import Logging
import Sweeps
import Trials

/// `fsweep bench cluster`: coordinator overhead with trials that only sleep, over real sockets and the
/// real SQLite store. Reports wall time, sustained trials/s, per-trial overhead and the process's peak RSS.
public enum ClusterBenchmark {
    public struct Report: Sendable, CustomStringConvertible {
        public var workers: Int
        public var trials: Int
        public var sleepSeconds: Double
        public var wallSeconds: Double
        /// Peak resident set of the process (coordinator and simulated workers), MB.
        public var peakResidentMB: Double
        /// Seconds the coordinator's loop was working rather than waiting for messages.
        public var coordinatorBusySeconds: Double
        /// Median and mean seconds a worker waited from sending a RESULT to receiving its next LEASE.
        public var medianIdleSeconds: Double
        public var meanIdleSeconds: Double
        /// Number of gaps measured: one per trial after a worker's first.
        public var idleGaps: Int
        /// Trials per second of coordinator work: the rate at which its loop would be busy all the time.
        public var capacityTrialsPerSecond: Double { Double(trials) / max(coordinatorBusySeconds, 1e-9) }
        public var trialsPerSecond: Double { Double(trials) / wallSeconds }
        /// Upper bound if the coordinator cost nothing: workers ÷ sleep.
        public var idealTrialsPerSecond: Double { sleepSeconds > 0 ? Double(workers) / sleepSeconds : .infinity }
        /// Wall time each worker spent per trial beyond the sleep (lease → run → result → ACK → next lease).
        public var overheadPerTrialMs: Double { (wallSeconds * Double(workers) / Double(trials) - sleepSeconds) * 1000 }

        public var description: String {
            String(format: "%d workers, %d trials, sleep %.0f ms: %.2f s wall, %.1f trials/s (ideal %.1f), overhead %.2f ms/trial "
                   + "(RESULT → next LEASE: median %.3f ms, mean %.3f ms), peak RSS %.0f MB; "
                   + "coordinator busy %.0f%% of the time (%.3f ms/trial: capacity %.0f trials/s)",
                   workers, trials, sleepSeconds * 1000, wallSeconds, trialsPerSecond, idealTrialsPerSecond, overheadPerTrialMs,
                   medianIdleSeconds * 1000, meanIdleSeconds * 1000, peakResidentMB,
                   100 * coordinatorBusySeconds / wallSeconds, 1000 * coordinatorBusySeconds / Double(trials), capacityTrialsPerSecond)
        }
    }

    /// Runs `trials` sleeping trials over `workers` simulated workers (each its own DEALER; `SimulatedFleet`).
    public static func run(workers: Int, trials: Int, sleepSeconds: Double, reserveAhead: Bool = true, directory: String,
                           logger: Logger) throws -> Report {
        let yaml = SweepSpec.tinyYAML(name: "bench", trials: trials)
        let spec = try SweepSpec(yaml: yaml, file: "bench.yaml")
        let dir = URL(fileURLWithPath: directory).appendingPathComponent("bench-\(workers)-\(trials)-\(UUID().uuidString.prefix(8))")
        let store = try SweepStore.create(in: try DirectoryLock(directory: dir), spec: spec)
        defer { try? FileManager.default.removeItem(at: dir) }
        var quiet = logger
        quiet.logLevel = .warning
        var settings = CoordinatorSettings()
        settings.reserveAhead = reserveAhead
        let server = CoordinatorServer(endpoint: "tcp://127.0.0.1:*", settings: settings, store: store, logger: quiet)
        let endpoint = try server.start()
        let context = try ZMQContext()
        let fleetLogger = quiet
        let fleet = try SimulatedFleet(endpoint: endpoint, workers: workers, sleepSeconds: sleepSeconds, context: context, logger: quiet)
        let start = Date()
        let exited = DispatchGroup()
        exited.enter()
        let t = Thread {
            do { try fleet.run() } catch { fleetLogger.error("simulated workers stopped: \(error)") }
            exited.leave()
        }
        t.start()
        let code = server.wait()
        let wall = Date().timeIntervalSince(start)
        _ = exited.wait(timeout: .now() + 10)
        let gaps = fleet.idleGaps
        let c = try store.counts()
        guard code == 0, c.done == trials else {
            throw ClusterError(code: "bench", message: "benchmark sweep did not finish cleanly: exit \(code), \(c.done)/\(trials) done")
        }
        return Report(workers: workers, trials: trials, sleepSeconds: sleepSeconds, wallSeconds: wall,
                      peakResidentMB: StoreBenchmark.peakRSS(), coordinatorBusySeconds: server.snapshot.loopBusySeconds,
                      medianIdleSeconds: gaps.upperMedian ?? 0,
                      meanIdleSeconds: gaps.isEmpty ? 0 : gaps.reduce(0, +) / Double(gaps.count), idleGaps: gaps.count)
    }
}
