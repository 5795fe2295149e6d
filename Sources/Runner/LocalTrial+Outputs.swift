import Foundation
import Networks
import Sweeps

extension LocalTrial {
    /// Writes `model.safetensors`, `model.json`, `metrics.json` (scalars + per-epoch history) and
    /// `trial.json` (the config, so the run can be repeated) into `directory`.
    public static func save(_ outcome: Outcome, config: TrialConfig, to directory: URL) throws {
        try Checkpoint.save(outcome.model, to: directory)
        struct Metrics: Encodable {
            let metrics: [String: Double]
            let history: [[String: Double]]
            let durationSeconds: Double
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: AnyKey.self)
                for (k, v) in metrics where v.isFinite { try c.encode(v, forKey: AnyKey(k)) }
                try c.encode(history, forKey: AnyKey("history"))
                try c.encode(durationSeconds, forKey: AnyKey("duration_seconds"))
            }
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        let m = Metrics(metrics: outcome.result.metrics, history: outcome.result.epochs, durationSeconds: outcome.result.durationSeconds)
        try enc.encode(m).write(to: directory.appendingPathComponent("metrics.json"), options: .atomic)
        try enc.encode(config).write(to: directory.appendingPathComponent("trial.json"), options: .atomic)
    }

    /// One human-readable progress line per epoch.
    public static func progressLine(_ r: EpochReport, elapsed: Double) -> String {
        let eta = r.epoch > 0 ? elapsed / Double(r.epoch) * Double(r.epochs - r.epoch) : 0
        let test = r.testAccuracy.map { String(format: "%5.1f%%", 100 * $0) } ?? "   - "
        return String(format: "epoch %3d/%-3d  loss %.4f  train %5.1f%%  test %@  lr %.2e  %6.0f img/s  ETA %@",
                      r.epoch, r.epochs, r.trainLoss, 100 * r.trainAccuracy, test, r.learningRate, r.imagesPerSecond,
                      formatDuration(eta))
    }

    /// `h:mm:ss` for progress lines.
    public static func formatDuration(_ s: Double) -> String {
        guard s.isFinite, s >= 0 else { return "-" }
        let t = Int(s.rounded())
        return String(format: "%d:%02d:%02d", t / 3600, (t / 60) % 60, t % 60)
    }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
