import Foundation
import Networks
import Sweeps
import Trials

/// Building trial configs outside a sweep (`fsweep train`), with the same validation as sweep files.
public enum TrialConfigFile {
    /// Reads a trial config JSON file.
    public static func load(_ path: String) throws -> TrialConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrialFailure(reason: "cannot read trial config \(path)", retryable: false)
        }
        return try TrialConfig.decode(json: String(decoding: data, as: UTF8.self))
    }

    /// Builds a config from flag values (nil values are left to the defaults); errors name the bad key.
    public static func fromFlags(_ sections: [String: [String: Any?]], seed: Int) throws -> TrialConfig {
        var object: [String: Any] = ["seed": seed, "probes": [Any]()]
        for (section, values) in sections {
            var s: [String: Any] = [:]
            for (k, v) in values { if let v { s[k] = v } }
            object[section] = s
        }
        let data = try JSONSerialization.data(withJSONObject: object)
        return try TrialConfig.decode(json: String(decoding: data, as: UTF8.self))
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
