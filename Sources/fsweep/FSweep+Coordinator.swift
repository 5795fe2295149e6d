import ArgumentParser
import Cluster
import Runner
import Sweeps
import Foundation

extension FSweep {
    /// `fsweep coordinator SPEC --bind tcp://HOST:PORT`: serve a sweep's trials to remote workers.
    struct Coordinator: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve a sweep's trials to workers over ZeroMQ until every trial is done.")

        @Argument(help: "Sweep file (sweeps/*.yaml).") var spec: String
        @Argument(help: "Overrides: train.epochs=1 (fixed), model.depth=[1,2] (grid axis), ~grid.train.weight_decay (remove an axis).")
        var overrides: [String] = []
        @Option(help: "Endpoint to bind, e.g. tcp://0.0.0.0:5555 (non-loopback needs CURVE or --insecure).")
        var bind: String = "tcp://127.0.0.1:5555"
        @Option(help: "Results root; the sweep lives in RESULTS/<name>/.") var results: String = "results"
        @Flag(help: "Keep serving after every trial is done (for a grid that grows).") var keepAlive = false
        @Flag(help: "Re-queue failed trials before starting.") var retryFailed = false
        @Flag(help: "Accept a spec whose fixed settings changed since the store was created (adds its trials beside the old ones).")
        var forceNewTrials = false
        @Flag(help: "Allow a plaintext bind on a non-loopback address (trusted networks only).") var insecure = false
        @Option(help: "Coordinator CURVE secret key file (from `fsweep keys generate`).") var curveSecret: String?
        @Option(help: "File of worker public keys allowed to connect (one per line).") var authorizedKeys: String?
        @Option(help: "File written when every trial is done or failed (removed at start); workers given it exit at once.")
        var finishedMarker: String?
        @OptionGroup var trialLimits: TrialLimitOptions
        @Option(help: "Time a graceful shutdown waits for running trials before re-queueing them: 30s, 2m, seconds or 0.", transform: DurationFlag.secondsOrZero) var grace: Double = 30
        @OptionGroup var heartbeat: HeartbeatOptions
        @OptionGroup var log: LogOptions
        @OptionGroup var dashboard: DashboardOption

        func validate() throws {
            if (curveSecret == nil) != (authorizedKeys == nil) {
                throw ValidationError("--curve-secret and --authorized-keys go together")
            }
        }

        func run() throws {
            let parsed = try SweepSpec.load(path: spec, overrides: overrides)
            try SweepValidation.validate(parsed, report: Console.error)
            if let line = try CheckpointPlan.describe(parsed) { Console.error(line) }
            let logger = log.makeLogger("fsweep.coordinator")
            var settings = CoordinatorSettings()
            settings.heartbeatInterval = heartbeat.heartbeat
            settings.liveness = heartbeat.liveness
            settings.keepAlive = keepAlive
            settings.shutdownGrace = grace
            let security = CoordinatorSecurity(
                curveSecretKey: try curveSecret.map { try CurveKeyPair.readKey(at: $0) },
                authorized: try authorizedKeys.map { try AuthorizedKeys.load(path: $0) }, insecure: insecure)
            let session = try SweepSession(specPath: spec, overrides: overrides, resultsRoot: results, retryFailed: retryFailed, forceNewTrials: forceNewTrials,
                                           settings: settings, limits: trialLimits.limits, logger: logger)
            try dashboard.start(results: results)
            var code = try session.serve(endpoint: bind, security: security, finishedMarker: finishedMarker, logger: logger)
            code = try CheckpointProbes.afterSweep(session.store, probes: session.probesToAdd, code: code, workers: 1,
                                                   threads: ProcessInfo.processInfo.activeProcessorCount, executable: LocalWorkers.selfExecutable())
            if code != 0 { throw ExitCode(code) }
        }
    }
}
