import ArgumentParser
import Cluster
import Foundation
import Trials
import Runner

extension FSweep {
    /// `fsweep bench chaos`: random kill -9 of workers and coordinator and a hostile peer, then the invariants.
    struct BenchChaos: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "chaos",
            abstract: "Fault test: kill -9 workers and the coordinator at random, attack the port, then check every trial ran to one result.",
            discussion: "Real coordinator and worker processes (this binary) on loopback, an external runner that logs each "
                + "execution. Exits non-zero naming each invariant that failed; the run's files are then kept in --scratch.")

        @Option(help: "Seconds of faults; the sweep then finishes without any.") var seconds: Double = 120
        @Option(help: "Worker processes.") var workers: Int = 4
        @Option(help: "Trials (default: about as many as the workers finish in --seconds).") var trials: Int?
        @Option(help: "runner.max_attempts of the sweep.") var maxAttempts: Int = 3
        @Option(help: "Seed of every random choice (kill times, victims, attacks).") var seed: UInt64 = 1
        @Option(help: "Mean seconds between worker kills.") var workerKillEvery: Double = 4
        @Option(help: "Mean seconds between coordinator kills.") var coordinatorKillEvery: Double = 15
        @Option(help: "Mean seconds between hostile actions.") var attackEvery: Double = 3
        @Option(help: "Connections per READY flood.") var floodSize: Int = 200
        @Option(help: "Scratch directory (emptied first; removed after a run whose invariants hold).")
        var scratch: String = NSTemporaryDirectory() + "fsweep-bench-chaos"
        @Flag(help: "Print the report as one JSON object.") var json = false

        func validate() throws {
            if let problem = settings.problem { throw ValidationError(problem) }
        }

        var settings: ChaosSettings {
            var s = ChaosSettings(executable: LocalWorkers.selfExecutable(), scratch: URL(fileURLWithPath: scratch))
            s.seconds = seconds
            s.workers = workers
            s.trials = trials
            s.maxAttempts = maxAttempts
            s.seed = seed
            s.workerKillInterval = workerKillEvery
            s.coordinatorKillInterval = coordinatorKillEvery
            s.hostileInterval = attackEvery
            s.floodSize = floodSize
            return s
        }

        func run() throws {
            let report = try ChaosBenchmark.run(settings, progress: { Console.error($0) })
            Console.line(json ? try report.json() : report.text)
            if !report.passed {
                Console.error("invariants failed: \(Set(report.violations.map(\.invariant)).sorted().joined(separator: ", "))")
                throw ExitCode(1)
            }
        }
    }
}
