import Foundation
import Trials

/// How the fault benchmark (`fsweep bench chaos`) runs; every random choice derives from `seed`.
public struct ChaosSettings: Sendable {
    /// The `fsweep` executable started as coordinator and workers (the running binary, for the CLI).
    public var executable: String
    /// Scratch directory (emptied first): sweep file, results, outboxes, runner log, process logs.
    public var scratch: URL
    /// Seconds of faults; then the sweep finishes without any.
    public var seconds: Double = 120
    /// Worker processes.
    public var workers: Int = 4
    /// Trials in the sweep; by default about as many as the workers finish in `seconds`.
    public var trials: Int?
    /// `runner.max_attempts` of the sweep.
    public var maxAttempts: Int = 3
    public var seed: UInt64 = 1
    /// Mean seconds between worker kills, coordinator kills and hostile actions (exponential gaps).
    public var workerKillInterval: Double = 4
    public var coordinatorKillInterval: Double = 15
    public var hostileInterval: Double = 3
    /// Connections per READY flood.
    public var floodSize: Int = 200
    /// Range of each execution's sleep in seconds: long enough that some trials run across a coordinator's
    /// restart and are re-adopted, short enough that many trials finish.
    public var trialSleep: ClosedRange<Double> = 0.3...3.0
    /// Heartbeat interval and liveness of coordinator and workers (the production defaults).
    public var heartbeat: Double = 1
    public var liveness: Int = 3
    /// Seconds the fault-free end may take before the run counts as hung.
    public var finishTimeout: Double = 300

    public init(executable: String, scratch: URL) {
        self.executable = executable
        self.scratch = scratch
    }

    /// The number of trials the sweep gets.
    public var trialCount: Int {
        let perTrial = (trialSleep.lowerBound + trialSleep.upperBound) / 2 + 0.15
        return trials ?? max(8, Int(seconds * Double(workers) / perTrial))
    }

    /// Problems with the settings, named by option; nil when they are usable.
    public var problem: String? {
        if !(seconds > 0) { return "--seconds must be positive" }
        if workers < 1 { return "--workers must be at least 1" }
        if let trials, trials < 1 { return "--trials must be at least 1" }
        if maxAttempts < 2 { return "--max-attempts must be at least 2 (a killed trial needs a second attempt)" }
        if floodSize < 0 || floodSize > 5000 { return "--flood-size must be in 0…5000" }
        if !(workerKillInterval > 0 && coordinatorKillInterval > 0 && hostileInterval > 0) { return "kill and attack intervals must be positive" }
        return nil
    }
}

/// Random gaps and picks for the fault schedule.
enum ChaosSchedule {
    /// An exponential gap with mean `mean` (a Poisson process of faults).
    static func exponential(mean: Double, _ rng: inout SeededRNG) -> Double {
        -mean * log(1 - Double.random(in: 0..<1, using: &rng))
    }
}
