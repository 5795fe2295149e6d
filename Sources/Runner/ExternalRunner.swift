import Foundation
import Sweeps
import Trials

/// Runs a trial as a user command (any language, e.g. a PyTorch script on a GPU box), so the same
/// coordinator can sweep code that is not the built-in trainer.
///
/// Contract with the command (run as `/bin/sh -c COMMAND` in a process group of its own):
/// - stdin: the trial config as canonical JSON; env `FSWEEP_TRIAL_ID` holds the trial id.
/// - stdout, one JSON object per line (other lines are ignored):
///   `{"progress": {"epoch": 1, "epochs": 10, "metrics": {...}}}` after each epoch (optional);
///   `{"step": 1}` whenever a unit of work finished, if epochs are long (optional: the coordinator's stall
///   timeout counts these and epochs, nothing else); and finally
///   `{"metrics": {"test_accuracy": 0.9}, "arrays": [{"name": "m", "shape": [2, 2], "data": [..]}], "epochs": [{...}]}`
///   (`arrays` and `epochs` optional), or `{"error": "why", "retryable": false}` for a failure.
/// - exit status: 0 success; 3 a deterministic failure (never retried); anything else retryable.
/// Cancellation (stall, time limit, coordinator request, worker stopping) sends SIGTERM to the whole process
/// group, then SIGKILL after `killGrace` seconds; when the command exits, whatever it left running in its
/// group is killed too, so no runner process outlives its trial.
public struct ExternalRunner: TrialRunner {
    /// Shell command line run for each trial.
    public var command: String
    /// Extra environment variables for the command.
    public var environment: [String: String]
    /// Seconds between SIGTERM and SIGKILL when a trial is cancelled.
    public var killGrace: Double

    public init(command: String, environment: [String: String] = [:], killGrace: Double = 2) {
        self.command = command
        self.environment = environment
        self.killGrace = killGrace
    }

    /// Exit status that marks a deterministic failure.
    public static let permanentFailureStatus: Int32 = 3

    public func run(_ config: TrialConfig, trialID: String, events: TrialEvents) throws -> TrialResult {
        let input: Data
        do { input = Data(try config.canonicalJSON().utf8) } catch {
            throw TrialFailure(reason: "cannot encode the trial config: \(error)", retryable: false)
        }
        let start = Date()
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        env["FSWEEP_TRIAL_ID"] = trialID
        let final = Locked<RunnerLine?>(nil)
        let child = try RunnerProcess(command: command, environment: env, input: input) { line in
            if let p = line.progress {
                events.epoch(EpochProgress(epoch: p.epoch, epochs: p.epochs ?? 0, metrics: p.metrics ?? [:]))
                events.step()
            } else if line.step != nil {
                events.step()
            } else if line.metrics != nil || line.error != nil {
                final.withLock { $0 = line }
            }
        }
        let cancelled = child.waitForExit(isCancelled: events.isCancelled, killGrace: killGrace)
        if cancelled { throw TrialFailure(reason: "cancelled", retryable: true) }
        return try interpret(final.withLock { $0 }, status: child.status, signalled: child.signalled,
                             stderr: child.stderrTail, duration: Date().timeIntervalSince(start))
    }

    private func interpret(_ line: RunnerLine?, status: Int32, signalled: Bool, stderr: String, duration: Double) throws -> TrialResult {
        if let message = line?.error {
            throw TrialFailure(reason: "external runner: \(message)", retryable: line?.retryable ?? true)
        }
        guard status == 0 else {
            let why = signalled ? "was killed by signal \(status)" : "exited with status \(status)"
            throw TrialFailure(reason: "external runner '\(command)' \(why)\(stderr.isEmpty ? "" : ": " + stderr.suffix(500))",
                               retryable: signalled || status != ExternalRunner.permanentFailureStatus)
        }
        guard let line, let raw = line.metrics else {
            throw TrialFailure(reason: "external runner '\(command)' printed no result line {\"metrics\": {...}} on stdout", retryable: false)
        }
        let metrics = try Self.numericMetrics(raw)
        var arrays: [NamedArray] = []
        for a in line.arrays ?? [] {
            guard a.shape.allSatisfy({ $0 >= 0 }), a.shape.reduce(1, *) == a.data.count else {
                throw TrialFailure(reason: "external runner: array \(a.name) has shape \(a.shape) but \(a.data.count) values", retryable: false)
            }
            arrays.append(NamedArray(name: a.name, shape: a.shape, data: a.data))
        }
        return TrialResult(metrics: metrics, arrays: arrays, epochs: line.epochs ?? [], durationSeconds: duration)
    }
}

extension ExternalRunner {
    /// The final metrics as numbers (`true`/`false` count as 1/0, `null` as a missing value). A text or
    /// structured value is refused, naming the metric, rather than dropped: the store and the figures hold
    /// numbers only, and a silently missing metric would look like a probe that was never run.
    static func numericMetrics(_ raw: [String: JSONValue]) throws -> [String: Double] {
        var out: [String: Double] = [:]
        for (k, v) in raw.sorted(by: { $0.key < $1.key }) {
            switch v {
            case .number(let d): out[k] = d
            case .bool(let b): out[k] = b ? 1 : 0
            case .null: continue
            default:
                throw TrialFailure(reason: "external runner: metric \(k) is \(v.kindName) \(String(v.canonical.prefix(60))); "
                                   + "metrics must be numbers (put text in a file or the trial's log)", retryable: false)
            }
        }
        return out
    }
}

/// One JSON line a runner prints.
struct RunnerLine: Decodable, Sendable {
    struct Progress: Decodable, Sendable {
        var epoch: Int
        var epochs: Int?
        var metrics: [String: Double]?
    }
    struct ArrayLine: Decodable, Sendable {
        var name: String
        var shape: [Int]
        var data: [Float]
    }
    var progress: Progress?
    var step: JSONValue?
    /// Any JSON values, so a text metric is refused by name (`numericMetrics`) instead of the whole line being ignored.
    var metrics: [String: JSONValue]?
    var arrays: [ArrayLine]?
    var epochs: [[String: Double]]?
    var error: String?
    var retryable: Bool?
}
