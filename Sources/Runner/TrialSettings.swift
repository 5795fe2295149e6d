import Datasets
import Foundation
import Networks
import Sweeps
import Trials

/// Maps the sweep-file settings (`Sweeps`) onto the engine's own settings types, applying the
/// engine's defaults in exactly one place.
public enum TrialSettings {
    /// The dataset settings of a trial; fields left out of the sweep keep `DatasetSettings`' defaults.
    /// Invalid settings (a size out of range, …) are a non-retryable `TrialFailure`: running the trial
    /// again cannot help, so a worker reports it at once instead of trapping or retrying.
    public static func dataset(_ spec: DatasetSpec) throws -> DatasetSettings {
        do { return try datasetSettings(spec) } catch let e as DatasetError {
            throw TrialFailure(reason: "invalid dataset settings: \(e.message)", retryable: false)
        } catch {
            throw TrialFailure(reason: "invalid dataset settings: \(error)", retryable: false)
        }
    }

    /// `dataset(_:)` with the engine's own error (which names the key at fault), for validation.
    static func datasetSettings(_ spec: DatasetSpec) throws -> DatasetSettings {
        // Both types share snake_case keys; a JSON round trip fills defaults without a second copy of them.
        // (`DatasetSettings.init(from:)` validates and throws its own `DatasetError`, which the decoder passes on.)
        return try JSONDecoder().decode(DatasetSettings.self, from: JSONEncoder().encode(spec))
    }

    /// The architecture, sized to the data it will see and normalizing with the training statistics.
    public static func model(_ spec: ModelSpec, data: ImageSet, stats: ChannelStats) -> ModelConfig {
        model(spec, classes: data.classes, channels: data.channels, imageSize: data.height,
              normalization: .init(mean: stats.mean, std: stats.std))
    }

    /// The architecture for data of the given shape (before any data is loaded: checkpoint size estimates).
    public static func model(_ spec: ModelSpec, classes: Int, channels: Int, imageSize: Int,
                             normalization: ModelConfig.Normalization?) -> ModelConfig {
        ModelConfig(arch: spec.arch, depth: spec.depth ?? 1, width: spec.width ?? 64,
                    activation: spec.activation == .linear ? .linear : .relu,
                    batchNorm: spec.batchNorm ?? false, classes: classes, channels: channels,
                    imageSize: imageSize, normalization: normalization)
    }

    /// Optimizer and schedule; documented defaults: 10 epochs, lr 0.01, momentum 0.9, no weight decay, constant.
    public static func training(_ spec: TrainSpec) -> TrainingSettings {
        let lr = spec.lr ?? 0.01
        let schedule: LRSchedule
        switch spec.schedule ?? .constant {
        case .constant: schedule = .constant
        case .cosine: schedule = .cosine(minLR: spec.minLR ?? 0)
        case .step: schedule = .step(stepSize: spec.stepSize ?? 30, gamma: spec.gamma ?? 0.1)
        case .plateau: schedule = .plateau(factor: spec.factor ?? 0.1, patience: spec.patience ?? 20, minLR: spec.minLR ?? 1e-6)
        }
        return TrainingSettings(epochs: spec.epochs ?? 10, learningRate: lr, momentum: spec.momentum ?? 0.9,
                                weightDecay: spec.weightDecay ?? 0, schedule: schedule)
    }

    /// Mini-batch size; default 128.
    public static func batchSize(_ spec: TrainSpec) -> Int { spec.batchSize ?? 128 }
}
