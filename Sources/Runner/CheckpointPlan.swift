import Datasets
import Foundation
import Networks
import Sweeps
import Trials

/// What `runner.save_model: true` will write, told before the sweep starts: one `model.safetensors` per trial
/// of (parameters + buffers) × 4 bytes plus a small header. Counted once per distinct model and data shape
/// (`SweepSpec.forEachCell` over the `model.*` and `dataset.*` paths), never per trial.
public enum CheckpointPlan {
    /// Bytes of one trial's weights for each distinct model of the sweep (nil: unknown before the data is
    /// read, `npz` data), or nil when the sweep does not save models.
    public static func bytesPerTrial(_ spec: SweepSpec) throws -> [Int?]? {
        guard spec.runner.saveModel else { return nil }
        let paths = Set(SweepSpec.settingPaths.filter { $0.hasPrefix("model.") || $0.hasPrefix("dataset.") })
        var sizes: [ModelConfig: Int] = [:]
        var out: [Int?] = []
        try spec.forEachCell(varying: paths) { cell in
            let config = try cell.trial.config()
            guard let shape = dataShape(config.dataset) else { out.append(nil); return }
            let model = TrialSettings.model(config.model, classes: shape.classes, channels: shape.channels,
                                            imageSize: shape.imageSize, normalization: nil)
            if let known = sizes[model] { out.append(known); return }
            let built = try Model(model, seed: 0)
            let bytes = 4 * (built.parameters + built.buffers).reduce(0) { $0 + $1.value.count }
            sizes[model] = bytes
            out.append(bytes)
        }
        return out
    }

    /// The line `fsweep run` and `fsweep coordinator` print, or nil when the sweep does not save models.
    public static func describe(_ spec: SweepSpec) throws -> String? {
        guard let sizes = try bytesPerTrial(spec) else { return nil }
        let known = sizes.compactMap { $0 }
        let trials = spec.trialCount
        let unknown = known.count < sizes.count ? "; npz cells are sized by their data, known once loaded" : ""
        guard let lo = known.min(), let hi = known.max() else {
            return "checkpoints (runner.save_model): \(trials) trials, sizes known once the data is loaded\(unknown)"
        }
        if lo == hi {
            return "checkpoints (runner.save_model): \(trials) trials × \(format(lo)) (\(lo / 4) parameters × 4 bytes) = "
                + "\(format(lo * trials)) in trials/<id>/model.safetensors\(unknown)"
        }
        return "checkpoints (runner.save_model): \(trials) trials × \(format(lo))–\(format(hi)) each "
            + "(\(lo / 4)–\(hi / 4) parameters × 4 bytes), at most \(format(hi * trials)) in trials/<id>/model.safetensors\(unknown)"
    }

    /// Classes, channels and image side of a dataset without loading it; nil for `npz` (its file decides).
    static func dataShape(_ dataset: DatasetSpec) -> (classes: Int, channels: Int, imageSize: Int)? {
        guard let settings = try? TrialSettings.datasetSettings(dataset) else { return nil }
        switch settings.name {
        case .npz: return nil
        case .cifar10: return (10, 3, CIFAR10.shape.height)
        case .synthetic:
            let s = settings.syntheticSpec
            return (s.classes, s.channels, s.imageSize)
        }
    }

    /// Bytes as B, KB, MB or GB (powers of 1000, as disks are sold).
    public static func format(_ bytes: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var v = Double(bytes), u = 0
        while v >= 1000, u < units.count - 1 { v /= 1000; u += 1 }
        return u == 0 ? "\(bytes) B" : String(format: "%.1f %@", v, units[u])
    }
}
