import Datasets
import Networks
import TensorCore
import Trials

/// The data probes read: the labelled test split (most probes), the training split (data spectrum,
/// frequency principle), optionally explicit images for `sensitivity`, and the channel statistics.
public struct ProbeData: Sendable {
    /// Labelled evaluation images (the test split).
    public var test: ImageSet?
    /// Training images (data spectrum: first 5000; frequency principle: first 2000).
    public var train: ImageSet?
    /// `[N, C, H, W]` images that `sensitivity` uses exactly, instead of a test subset (`fsweep probe --images`).
    public var images: Tensor?
    /// Per-channel statistics of the training split, for the data spectrum; nil = the model's own normalization.
    public var stats: ChannelStats?

    public init(test: ImageSet? = nil, train: ImageSet? = nil, images: Tensor? = nil, stats: ChannelStats? = nil) {
        self.test = test
        self.train = train
        self.images = images
        self.stats = stats
    }

    /// The test split or a clear error naming the probe that needs it.
    func requireTest(_ probe: String, model: Model) throws -> ImageSet {
        guard let test, test.count > 0 else {
            throw ProbeError(.invalidData, "\(probe) needs labelled test images (pass a dataset, not only --images)")
        }
        try Self.checkFits(test.images, model: model, probe)
        return test
    }

    /// The training split or a clear error.
    func requireTrain(_ probe: String, model: Model) throws -> ImageSet {
        guard let train, train.count > 0 else {
            throw ProbeError(.invalidData, "\(probe) needs labelled training images (pass a dataset)")
        }
        try Self.checkFits(train.images, model: model, probe)
        return train
    }

    /// The statistics used to normalize images for the data spectrum.
    func spectrumStats(model: Model) -> ChannelStats? {
        if let stats { return stats }
        if let n = model.config.normalization { return ChannelStats(mean: n.mean, std: n.std) }
        return nil
    }

    static func checkFits(_ x: Tensor, model: Model, _ probe: String) throws {
        let c = model.config
        guard x.rank == 4, x.shape[1] == c.channels, x.shape[2] == c.imageSize, x.shape[3] == c.imageSize else {
            throw ProbeError(.invalidData, "\(probe): images of shape \(x.shape) do not fit the model, which expects [N, \(c.channels), \(c.imageSize), \(c.imageSize)]")
        }
    }

    /// A seeded class-balanced subset of `n` images (all of them when `n` ≥ count).
    static func subset(_ set: ImageSet, _ n: Int, seed: UInt64, _ label: String) throws -> ImageSet {
        try set.balancedSubset(n, seed: SeededRNG.derive(seed, label))
    }
}
