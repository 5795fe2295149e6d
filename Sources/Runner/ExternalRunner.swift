import Foundation
import Sweeps

/// Runs a trial as a user command (any language, e.g. a PyTorch script on a GPU box), so the same
/// coordinator can sweep code that is not the built-in trainer.
///
/// Contract with the command (run as `/bin/sh -c COMMAND`):
/// - stdin: the trial config as canonical JSON; env `FSWEEP_TRIAL_ID` holds the trial id.
/// - stdout, one JSON object per line: `{"progress": {"epoch": 1, "epochs": 10, "metrics": {...}}}`
///   for each finished epoch (optional), and finally
///   `{"metrics": {"test_accuracy": 0.9}, "arrays": [{"name": "m", "shape": [2, 2], "data": [..]}], "epochs": [{...}]}`
///   (`arrays` and `epochs` optional). A final `{"error": "why", "retryable": false}` reports a failure.
/// - exit status: 0 success; 3 a deterministic failure (never retried); anything else retryable.
/// Cancellation (timeout, coordinator request) sends SIGTERM, then SIGKILL after `killGrace` seconds.
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

    public func run(_ config: TrialConfig, trialID: String,
                    progress: @escaping @Sendable (EpochProgress) -> Void,
                    isCancelled: @escaping @Sendable () -> Bool) throws -> TrialResult {
        let input: Data
        do { input = Data(try config.canonicalJSON().utf8) } catch {
            throw TrialFailure(reason: "cannot encode the trial config: \(error)", retryable: false)
        }
        let start = Date()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        env["FSWEEP_TRIAL_ID"] = trialID
        process.environment = env
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        do { try process.run() } catch {
            throw TrialFailure(reason: "cannot start external runner '\(command)': \(error)", retryable: false)
        }

        let final = LockedBox<[String: Any]?>(nil)
        let errTail = LockedBox(Data())
        let readers = DispatchGroup()
        // Feed stdin on its own thread so a command that reads late cannot deadlock us.
        Thread.detachNewThread {
            stdin.fileHandleForWriting.write(input)
            try? stdin.fileHandleForWriting.close()
        }
        readers.enter()
        Thread.detachNewThread {
            var buffer = Data()
            func handle(_ line: Data) {
                guard let obj = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] else { return }
                if let p = obj["progress"] as? [String: Any] {
                    progress(EpochProgress(epoch: (p["epoch"] as? NSNumber)?.intValue ?? 0,
                                           epochs: (p["epochs"] as? NSNumber)?.intValue ?? 0,
                                           metrics: ExternalRunner.doubles(p["metrics"])))
                } else if obj["metrics"] != nil || obj["error"] != nil {
                    final.set(obj)
                }
            }
            while true {
                let chunk = stdout.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                while let nl = buffer.firstIndex(of: 0x0A) {
                    handle(buffer[buffer.startIndex..<nl])
                    buffer.removeSubrange(buffer.startIndex...nl)
                }
            }
            if !buffer.isEmpty { handle(buffer) }
            readers.leave()
        }
        readers.enter()
        Thread.detachNewThread {
            while true {
                let chunk = stderr.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                errTail.update { tail in
                    tail.append(chunk)
                    if tail.count > 4096 { tail = tail.suffix(4096) }
                }
            }
            readers.leave()
        }

        // Foundation starts the child in its own process group (pgid == pid): signal the whole group so
        // commands the shell started (and which would keep our pipes open) stop too.
        let group = -process.processIdentifier
        var cancelledAt: Date?
        while process.isRunning {
            if cancelledAt == nil && isCancelled() {
                cancelledAt = Date()
                kill(group, SIGTERM)
            } else if let c = cancelledAt, Date().timeIntervalSince(c) > killGrace {
                kill(group, SIGKILL)
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        if cancelledAt != nil { kill(group, SIGKILL) }
        process.waitUntilExit()
        _ = readers.wait(timeout: .now() + 5)
        if cancelledAt != nil { throw TrialFailure(reason: "cancelled", retryable: true) }

        let status = process.terminationStatus
        let stderrText = String(decoding: errTail.get(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let obj = final.get()
        if let message = obj?["error"] as? String {
            throw TrialFailure(reason: "external runner: \(message)", retryable: (obj?["retryable"] as? Bool) ?? true)
        }
        guard status == 0 else {
            let why = process.terminationReason == .uncaughtSignal ? "was killed by signal \(status)" : "exited with status \(status)"
            throw TrialFailure(reason: "external runner '\(command)' \(why)\(stderrText.isEmpty ? "" : ": " + stderrText.suffix(500))",
                               retryable: status != ExternalRunner.permanentFailureStatus)
        }
        guard let obj, obj["metrics"] is [String: Any] else {
            throw TrialFailure(reason: "external runner '\(command)' printed no result line {\"metrics\": {...}} on stdout", retryable: false)
        }
        var arrays: [NamedArray] = []
        for a in (obj["arrays"] as? [[String: Any]]) ?? [] {
            guard let name = a["name"] as? String, let shape = (a["shape"] as? [NSNumber])?.map(\.intValue),
                  let data = (a["data"] as? [NSNumber])?.map(\.floatValue), shape.reduce(1, *) == data.count else {
                throw TrialFailure(reason: "external runner: an array needs name, shape and data with shape's element count", retryable: false)
            }
            arrays.append(NamedArray(name: name, shape: shape, data: data))
        }
        let epochs = ((obj["epochs"] as? [Any]) ?? []).map { ExternalRunner.doubles($0) }
        return TrialResult(metrics: ExternalRunner.doubles(obj["metrics"]), arrays: arrays, epochs: epochs,
                           durationSeconds: Date().timeIntervalSince(start))
    }

    static func doubles(_ any: Any?) -> [String: Double] {
        guard let dict = any as? [String: Any] else { return [:] }
        var out: [String: Double] = [:]
        for (k, v) in dict { if let n = v as? NSNumber { out[k] = n.doubleValue } }
        return out
    }
}

/// A small lock-guarded box for values the runner's reader threads hand back.
final class LockedBox<Value>: @unchecked Sendable {
    // Safe: every access goes through `lock`.
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func get() -> Value { lock.lock(); defer { lock.unlock() }; return value }
    func set(_ v: Value) { lock.lock(); value = v; lock.unlock() }
    func update(_ body: (inout Value) -> Void) { lock.lock(); body(&value); lock.unlock() }
}
