import Foundation
import TensorCore
import Trials

/// Turns `DatasetSettings` into train and test sets: the one call the CLI and the trial runner make.
///
/// Steps: check the settings against the data (split sizes, image size; headers only) → load or
/// generate → seeded class-balanced subsets (`train_size`, `test_size`) → frequency filter on both
/// splits. Normalization is *not* applied: compute `ChannelStats.compute(train)` and let the model
/// normalize, so every probe works in pixel space.
public enum DatasetLoader {
    /// Loads the splits; `seed` (the trial seed) drives the subsets, `settings.data_seed` the synthetic data.
    public static func load(_ settings: DatasetSettings, seed: UInt64) throws -> (train: ImageSet, test: ImageSet) {
        try settings.validate()
        var train: ImageSet, test: ImageSet
        switch settings.name {
        case .synthetic:
            let spec = settings.syntheticSpec
            train = try SyntheticDataset.generate(spec, count: settings.trainSize ?? DatasetSettings.syntheticTrainSize,
                                                  split: .train, seed: settings.dataSeed)
            test = try SyntheticDataset.generate(spec, count: settings.testSize ?? DatasetSettings.syntheticTestSize,
                                                 split: .test, seed: settings.dataSeed)
        case .cifar10:
            try check(settings)
            (train, test) = try CIFAR10.load(directory: settings.dataDir ?? "")
        case .npz:
            try check(settings)
            (train, test) = try NumPyImages.load(path: settings.path ?? "")
        }
        if settings.name != .synthetic {
            if let n = settings.trainSize { train = try train.balancedSubset(n, seed: SeededRNG.derive(seed, "subset.train")) }
            if let n = settings.testSize { test = try test.balancedSubset(n, seed: SeededRNG.derive(seed, "subset.test")) }
        }
        if let f = settings.frequencyFilter(imageSize: train.height) {
            train = try f.apply(train)
            test = try f.apply(test)
        }
        return (train, test)
    }

    /// Checks the settings and, for file data, the sizes they ask for against the files' headers, without
    /// loading pixels. Returns false when the files are not on this machine (a coordinator serving remote
    /// workers): then only the workers, which load them, can check.
    @discardableResult
    public static func check(_ settings: DatasetSettings) throws -> Bool {
        try settings.validate()
        switch settings.name {
        case .synthetic:
            return true
        case .cifar10:
            let dir = settings.dataDir ?? ""
            guard FileManager.default.fileExists(atPath: dir) else { return false }
            try settings.check(against: CIFAR10.shape, source: "cifar10 in \(dir)")
        case .npz:
            let path = settings.path ?? ""
            guard FileManager.default.fileExists(atPath: path) else { return false }
            try settings.check(against: NumPyImages.shape(path: path), source: "npz \(path)")
        }
        return true
    }
}
