import Foundation
import Networks
import Sweeps
import Trials

/// Trial configs from a file outside a sweep (`fsweep train --config`), checked like a sweep file.
public enum TrialConfigFile {
    /// Reads and validates a trial config JSON file; errors name the file and the key.
    /// `overrides` (dotted setting paths such as `train.epochs`, from command-line flags) replace the file's
    /// values before validation, so `fsweep train --config cfg.json --epochs 1` trains one epoch.
    public static func load(_ path: String, overrides: [String: JSONValue] = [:]) throws -> TrialConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SweepError(.io, "cannot read trial config \(path): no such file or not readable")
        }
        do {
            var json = try JSONValue.parse(String(decoding: data, as: UTF8.self))
            for (key, value) in overrides.sorted(by: { $0.key < $1.key }) {
                json = json.setting(key.split(separator: ".").map(String.init), to: value)
            }
            return try TrialConfig.decode(json: json.canonical).validated()
        } catch let e as TrialConfigError {
            throw SweepError(.invalidSpec, "\(path): \(e.message)", cause: e)
        } catch let e as SweepError {
            throw SweepError(.invalidSpec, "\(path): \(e.message)", cause: e)
        }
    }
}

/// `fsweep train`: run one trial with progress lines and save it.
public enum TrainCommand {
    public static func run(_ config: TrialConfig, threads: Int, out: URL) throws {
        let start = Date()
        Console.line("training \(config.model.arch.rawValue) on \(config.dataset.name.rawValue) (seed \(config.seed), \(threads) thread\(threads == 1 ? "" : "s"))")
        let outcome = try LocalTrial.run(config, threads: threads, onEpoch: { r, _ in
            Console.line(LocalTrial.progressLine(r, elapsed: Date().timeIntervalSince(start)))
        })
        try LocalTrial.save(outcome, config: config, to: out)
        let acc = outcome.result.metrics["test_accuracy"].map { String(format: "%.2f%%", 100 * $0) } ?? "-"
        Console.line("test accuracy \(acc); wrote \(out.path)/model.safetensors, model.json, metrics.json")
    }
}

/// Unbuffered output, so progress appears as it happens even when stdout is a pipe.
public enum Console {
    public static func line(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }
    public static func error(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
}
