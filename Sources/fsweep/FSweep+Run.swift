import ArgumentParser
import Cluster
import Runner
import Sweeps
import Foundation

extension FSweep {
    /// `fsweep run SPEC`: coordinator plus local worker processes on loopback — the one-machine path.
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a sweep on this machine (coordinator plus N worker processes); re-running resumes.")

        @Argument(help: "Sweep file (sweeps/*.yaml).") var spec: String
        @Argument(help: "Overrides: train.epochs=1 (fixed), model.depth=[1,2] (grid axis), ~grid.train.weight_decay (remove an axis).")
        var overrides: [String] = []
        @Option(help: "Local worker processes.") var workers: Int = 1
        @Option(help: "Results root; the sweep lives in RESULTS/<name>/.") var results: String = "results"
        @Flag(help: "Re-queue failed trials before starting.") var retryFailed = false
        @Flag(help: "Accept a spec whose fixed settings changed since the store was created (adds its trials beside the old ones).")
        var forceNewTrials = false
        @Option(help: "Compute threads per worker (default: cores ÷ workers).") var threads: Int?
        @Option(help: "Run trials with this shell command instead of the built-in trainer (see ExternalRunner).")
        var runnerCommand: String?
        @Option(help: "GPU ids for the local workers, e.g. 0,1: worker i runs with CUDA_VISIBLE_DEVICES set to the i-th (round-robin).",
                transform: GPUList.parse)
        var gpus: [String] = []
        @OptionGroup var trialLimits: TrialLimitOptions
        @Option(help: "Time a graceful shutdown waits for running trials before re-queueing them: 30s, 2m, seconds or 0.", transform: DurationFlag.secondsOrZero) var grace: Double = 30
        @Flag(help: "No live progress line.") var quiet = false
        @OptionGroup var heartbeat: HeartbeatOptions
        @OptionGroup var log: LogOptions
        @OptionGroup var dashboard: DashboardOption

        func validate() throws {
            guard workers >= 1 else { throw ValidationError("--workers must be at least 1") }
        }

        func run() throws {
            var logger = log.makeLogger("fsweep.run")
            if log.logLevel == "info" { logger.logLevel = .notice }
            let parsed = try SweepSpec.load(path: spec, overrides: overrides)
            try SweepValidation.validate(parsed, report: Console.error)
            if let line = try CheckpointPlan.describe(parsed) {
                Console.error(runnerCommand == nil ? line : "note: runner.save_model keeps the weights of the built-in runner only; "
                    + "trials run by --runner-command store no checkpoint")
            }
            var settings = CoordinatorSettings()
            settings.shutdownGrace = grace
            settings.heartbeatInterval = heartbeat.heartbeat
            settings.liveness = heartbeat.liveness
            let session = try SweepSession(specPath: spec, overrides: overrides, resultsRoot: results, retryFailed: retryFailed, forceNewTrials: forceNewTrials,
                                           settings: settings, limits: trialLimits.limits, logger: logger)
            try dashboard.start(results: results)
            let perWorker = threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount / workers)
            var args = ["--threads", "\(perWorker)", "--log-level", logger.logLevel <= .info ? log.logLevel : "warning",
                        "--heartbeat", "\(heartbeat.heartbeat)", "--liveness", "\(heartbeat.liveness)"]
            if let runnerCommand { args += ["--runner-command", runnerCommand] }
            var code = try session.runLocally(workers: workers, workerArguments: args, gpus: gpus, progress: !quiet, logger: logger)
            code = try CheckpointProbes.afterSweep(session.store, probes: session.probesToAdd, code: code, workers: workers,
                                                   threads: perWorker, executable: LocalWorkers.selfExecutable())
            if code != 0 { throw ExitCode(code) }
        }
    }
}
