import TensorCore
import Trials

/// Mini-batches of one epoch: seeded shuffle, optional augmentation, explicit last-batch policy.
///
/// Each epoch's order and augmentation draws depend only on `(seed, epoch)`, so an epoch can be
/// replayed or resumed exactly. Use as a `Sequence`: `for (x, y) in BatchIterator(...) { … }`;
/// `x` is `[B, C, H, W]`, `y` the `B` labels.
public struct BatchIterator: Sequence, IteratorProtocol, Sendable {
    public typealias Element = (x: Tensor, y: [Int])

    /// What to do with the final `N mod B` images.
    public enum LastBatch: String, Sendable, Codable {
        /// Yield a smaller final batch (evaluation default).
        case keep
        /// Skip it (training: every step sees `B` images).
        case drop
    }

    public let set: ImageSet
    public let batchSize: Int
    public let lastBatch: LastBatch
    public let augmentation: Augmentation?
    private let order: [Int]
    private var position = 0
    private var rng: SeededRNG

    /// Batches of `set` for `epoch`; `shuffle: false` keeps the stored order (evaluation).
    public init(_ set: ImageSet, batchSize: Int, epoch: Int = 0, seed: UInt64, shuffle: Bool = true,
                augmentation: Augmentation? = nil, lastBatch: LastBatch = .keep) throws {
        guard batchSize > 0 else { throw DatasetError(.invalidArgument, "batch size must be positive, got \(batchSize)") }
        if let a = augmentation, a.translate < 0 {
            throw DatasetError(.invalidArgument, "translate must be non-negative, got \(a.translate)")
        }
        self.set = set
        self.batchSize = batchSize
        self.lastBatch = lastBatch
        self.augmentation = augmentation
        if shuffle {
            var r = SeededRNG(seed: SeededRNG.derive(seed, "shuffle.\(epoch)"))
            order = r.permutation(set.count)
        } else {
            order = Array(0..<set.count)
        }
        rng = SeededRNG(seed: SeededRNG.derive(seed, "augment.\(epoch)"))
    }

    /// Number of batches this epoch yields.
    public var batchCount: Int {
        lastBatch == .drop ? set.count / batchSize : (set.count + batchSize - 1) / batchSize
    }

    public mutating func next() -> Element? {
        let remaining = order.count - position
        if remaining <= 0 || (lastBatch == .drop && remaining < batchSize) { return nil }
        let b = Swift.min(batchSize, remaining)
        let idx = order[position..<(position + b)]
        position += b
        let c = set.channels, h = set.height, w = set.width, inner = c * h * w
        var data = [Float](repeating: 0, count: b * inner)
        var y = [Int]()
        y.reserveCapacity(b)
        for (k, i) in idx.enumerated() {
            data.replaceSubrange((k * inner)..<((k + 1) * inner), with: set.images.data[(i * inner)..<((i + 1) * inner)])
            y.append(set.labels[i])
        }
        var x = Tensor(uncheckedShape: [b, c, h, w], data: data)
        if let augmentation { augmentation.apply(&x, rng: &rng) }
        return (x, y)
    }
}
