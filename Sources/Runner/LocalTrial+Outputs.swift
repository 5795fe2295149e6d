import Foundation
import Networks
import Sweeps
import Trials

extension LocalTrial {
    /// Writes `model.safetensors`, `model.json`, `metrics.json` (scalars + per-epoch history) and
    /// `trial.json` (the config, so the run can be repeated) into `directory`.
    public static func save(_ outcome: Outcome, config: TrialConfig, to directory: URL) throws {
        try Checkpoint.save(outcome.model, to: directory)
        // Scalars at the top level (non-finite ones dropped: JSON has no NaN), then the per-epoch history.
        var metrics: [String: Any] = outcome.result.metrics.filter { $0.value.isFinite }
        metrics["history"] = outcome.result.epochs
        metrics["duration_seconds"] = outcome.result.durationSeconds
        try JSONSerialization.data(withJSONObject: metrics, options: [.prettyPrinted, .sortedKeys])
            .write(to: directory.appendingPathComponent("metrics.json"), options: .atomic)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try enc.encode(config).write(to: directory.appendingPathComponent("trial.json"), options: .atomic)
    }

    /// One human-readable progress line per epoch.
    public static func progressLine(_ r: EpochReport, elapsed: Double) -> String {
        let eta = r.epoch > 0 ? elapsed / Double(r.epoch) * Double(r.epochs - r.epoch) : 0
        let test = r.testAccuracy.map { String(format: "%5.1f%%", 100 * $0) } ?? "   - "
        return String(format: "epoch %3d/%-3d  loss %.4f  train %5.1f%%  test %@  lr %.2e  %6.0f img/s  ETA %@",
                      r.epoch, r.epochs, r.trainLoss, 100 * r.trainAccuracy, test, r.learningRate, r.imagesPerSecond,
                      SweepStatus.format(seconds: eta))
    }
}
