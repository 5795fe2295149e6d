import ArgumentParser
import Cluster
import Foundation
import Runner
import Sweeps
import TensorCore
import Trials

extension FSweep {
    /// `fsweep worker --connect tcp://HOST:PORT`: run trials leased by a coordinator.
    struct Worker: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Connect to a coordinator and run its trials one at a time.")

        @Option(help: "Coordinator endpoint, e.g. tcp://10.0.0.1:5555.") var connect: String
        @Option(help: "Stable worker id (routing id and outbox name); default HOST-PID.") var id: String?
        @Option(help: "Compute threads per trial (default: all cores).") var threads: Int?
        @Option(help: "Directory for unacknowledged results (default ~/.cache/fsweep/outbox/ID).") var outbox: String?
        @Option(help: "Exit after this many trials.") var maxTrials: Int?
        @Option(help: "Run trials with this shell command (config JSON on stdin, result JSON on stdout) instead of the built-in trainer.")
        var runnerCommand: String?
        @Option(help: "GPU id for this worker's trials: the runner command sees CUDA_VISIBLE_DEVICES=K.", transform: GPUList.single)
        var gpu: String?
        @Option(help: "Coordinator CURVE public key file (.pub).") var curveServerKey: String?
        @Option(help: "This worker's CURVE secret key file (.key).") var curveSecret: String?
        @Option(help: "Give up (exit 75) when no coordinator has answered for this long while idle: 90s, 5m, 1h; 0 waits forever.",
                transform: DurationFlag.secondsOrZero)
        var giveUpAfter: Double = 300
        @Option(help: "Exit 0 at once when this file exists (the coordinator's --finished-marker: the sweep is finished).")
        var finishedMarker: String?
        @Option(help: .hidden) var parentPID: Int32?
        @OptionGroup var heartbeat: HeartbeatOptions
        @OptionGroup var log: LogOptions

        func validate() throws {
            if (curveServerKey == nil) != (curveSecret == nil) {
                throw ValidationError("--curve-server-key and --curve-secret go together")
            }
            if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
            if let maxTrials, maxTrials < 1 { throw ValidationError("--max-trials must be at least 1") }
        }

        func run() throws {
            let logger = log.makeLogger("fsweep.worker")
            if let gpu { setenv("CUDA_VISIBLE_DEVICES", gpu, 1) }  // for anything this process starts
            let cores = ProcessInfo.processInfo.activeProcessorCount
            let n = threads ?? cores
            Parallel.setThreads(n)
            BLAS.setThreads(n)
            let host = ProcessInfo.processInfo.hostName
            let workerID = id ?? "\(host)-\(getpid())"
            var settings = WorkerSettings(workerID: workerID, host: host, cores: n, version: FSweep.version)
            settings.heartbeatInterval = heartbeat.heartbeat
            settings.liveness = heartbeat.liveness
            settings.maxTrials = maxTrials
            settings.parentPID = parentPID
            settings.giveUpAfter = giveUpAfter > 0 ? giveUpAfter : nil
            settings.finishedMarker = finishedMarker
            let dir = outbox ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache/fsweep/outbox/\(workerID)")
            let curve = try curveServerKey.map { serverKeyPath in
                WorkerCurve(serverPublicKey: try CurveKeyPair.readKey(at: serverKeyPath),
                            keys: try CurveKeyPair.fromSecret(try CurveKeyPair.readKey(at: curveSecret ?? "")))
            }
            let node = WorkerNode(endpoint: connect, settings: settings, runner: try makeRunner(),
                                  outbox: try Outbox(directory: dir), curve: curve, logger: logger)
            let trap = SignalTrap { _ in node.requestStop() }
            let code = try node.run()
            withExtendedLifetime(trap) {}
            if code != 0 { throw ExitCode(code) }
        }

        /// The runner trials go through: the external command when given, else the built-in trainer.
        func makeRunner() throws -> any TrialRunner {
            if let runnerCommand {
                return ExternalRunner(command: runnerCommand, environment: gpu.map { ["CUDA_VISIBLE_DEVICES": $0] } ?? [:])
            }
            return BuiltinRunner(threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        }
    }
}
