import Foundation

extension SweepSpec {
    /// The smallest real sweep file of `trials` trials (one `train.lr` axis over a tiny synthetic model):
    /// what the cluster benchmarks, the chaos run and the coordinator's tests lease out when the trials'
    /// content does not matter, only their number. `saveModel` keeps each trial's weights (`runner.save_model`);
    /// `epochs` and `timeLimit` (`runner.time_limit`) let process tests watch progress and time limits.
    public static func tinyYAML(name: String, trials: Int, maxAttempts: Int = 3, saveModel: Bool = false,
                                epochs: Int = 1, timeLimit: String? = nil) -> String {
        let rates = (0..<trials).map { String(format: "%.6f", 0.000001 * Double($0 + 1)) }.joined(separator: ", ")
        return """
            version: 1
            name: \(name)
            fixed:
              dataset: {name: synthetic, image_size: 8, train_size: 10, test_size: 10}
              model: {arch: convactually, width: 4, depth: 1}
              train: {epochs: \(epochs), batch_size: 10}
              probes: []
            grid:
              train.lr: [\(rates)]
            runner: {max_attempts: \(maxAttempts), max_trials: \(max(trials, 1))\(saveModel ? ", save_model: true" : "")\(timeLimit.map { ", time_limit: \($0)" } ?? "")}
            """
    }
}
