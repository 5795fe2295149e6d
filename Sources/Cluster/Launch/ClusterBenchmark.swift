import Foundation
import Logging
import Sweeps
import Trials

/// `fsweep bench cluster`: coordinator overhead with a runner that only sleeps, over real sockets and the
/// real SQLite store. Reports wall time, sustained trials/s and per-trial overhead.
public enum ClusterBenchmark {
    public struct Report: Sendable, CustomStringConvertible {
        public var workers: Int
        public var trials: Int
        public var sleepSeconds: Double
        public var wallSeconds: Double
        public var trialsPerSecond: Double { Double(trials) / wallSeconds }
        /// Upper bound if the coordinator cost nothing: workers ÷ sleep.
        public var idealTrialsPerSecond: Double { sleepSeconds > 0 ? Double(workers) / sleepSeconds : .infinity }
        /// Wall time each worker spent per trial beyond the sleep (lease → run → result → ACK → next lease).
        public var overheadPerTrialMs: Double { (wallSeconds * Double(workers) / Double(trials) - sleepSeconds) * 1000 }

        public var description: String {
            String(format: "%d workers, %d trials, sleep %.0f ms: %.2f s wall, %.1f trials/s (ideal %.1f), overhead %.2f ms/trial",
                   workers, trials, sleepSeconds * 1000, wallSeconds, trialsPerSecond, idealTrialsPerSecond, overheadPerTrialMs)
        }
    }

    /// A runner that sleeps: the benchmark measures everything but training.
    struct SleepRunner: TrialRunner {
        let seconds: Double
        func run(_ config: TrialConfig, trialID: String, events: TrialEvents) throws -> TrialResult {
            if seconds > 0 { Thread.sleep(forTimeInterval: seconds) }
            events.epoch(EpochProgress(epoch: 1, epochs: 1, metrics: ["loss": 0]))
            return TrialResult(metrics: ["test_accuracy": 0.5], durationSeconds: seconds)
        }
    }

    /// Runs `trials` sleeping trials over `workers` in-process workers (each its own DEALER and threads).
    public static func run(workers: Int, trials: Int, sleepSeconds: Double, directory: String, logger: Logger) throws -> Report {
        let yaml = SweepSpec.tinyYAML(name: "bench", trials: trials)
        let spec = try SweepSpec(yaml: yaml, file: "bench.yaml")
        let dir = URL(fileURLWithPath: directory).appendingPathComponent("bench-\(workers)-\(trials)-\(UUID().uuidString.prefix(8))")
        let store = try SweepStore.create(in: try DirectoryLock(directory: dir), spec: spec)
        defer { try? FileManager.default.removeItem(at: dir) }
        var quiet = logger
        quiet.logLevel = .warning
        let server = CoordinatorServer(endpoint: "tcp://127.0.0.1:*", settings: CoordinatorSettings(),
                                       store: store, logger: quiet)
        let endpoint = try server.start()
        let context = try ZMQContext()
        let start = Date()
        let exited = DispatchGroup()
        for i in 0..<workers {
            let node = WorkerNode(endpoint: endpoint,
                                  settings: WorkerSettings(workerID: "bench-\(i)", host: "localhost", cores: 1, version: "bench"),
                                  runner: SleepRunner(seconds: sleepSeconds),
                                  outbox: try Outbox(directory: dir.appendingPathComponent("outbox/\(i)").path), logger: quiet)
            exited.enter()
            let t = Thread {
                _ = try? node.run(context: context)
                exited.leave()
            }
            t.stackSize = 1 << 20
            t.start()
        }
        let code = server.wait()
        let wall = Date().timeIntervalSince(start)
        _ = exited.wait(timeout: .now() + 10)
        let c = try store.counts()
        guard code == 0, c.done == trials else {
            throw ClusterError(code: "bench", message: "benchmark sweep did not finish cleanly: exit \(code), \(c.done)/\(trials) done")
        }
        return Report(workers: workers, trials: trials, sleepSeconds: sleepSeconds, wallSeconds: wall)
    }
}
