import TensorCore
import Trials

/// A labelled image split held in memory: the unit every loader returns and every consumer reads.
///
/// `images` is `[N, C, H, W]` Float32 in pixel space ([0, 1] unless a frequency filter was applied,
/// which can leave the range); per-channel normalization is applied by the model, never stored here,
/// so probes perturb and differentiate in pixel space.
public struct ImageSet: Sendable {
    /// `[N, C, H, W]` pixels.
    public var images: Tensor
    /// One class index in `0..<classes` per image.
    public var labels: [Int]
    /// Number of classes (the width of the classifier's output).
    public var classes: Int

    /// Wraps images and labels after checking they agree; bad input is an error, never a crash.
    public init(images: Tensor, labels: [Int], classes: Int) throws {
        guard images.rank == 4 else {
            throw DatasetError(.invalidArgument, "images must be [N, C, H, W], got shape \(images.shape)")
        }
        guard images.shape[0] == labels.count else {
            throw DatasetError(.invalidArgument, "\(images.shape[0]) images but \(labels.count) labels")
        }
        guard classes > 0 else { throw DatasetError(.invalidArgument, "classes must be positive, got \(classes)") }
        if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
            throw DatasetError(.badData, "label \(bad) outside 0..<\(classes)")
        }
        self.images = images
        self.labels = labels
        self.classes = classes
    }

    /// Internal initializer for code that already validated the parts.
    init(unchecked images: Tensor, labels: [Int], classes: Int) {
        self.images = images
        self.labels = labels
        self.classes = classes
    }

    /// Number of images.
    public var count: Int { labels.count }
    /// Channels per image.
    public var channels: Int { images.shape[1] }
    /// Image height.
    public var height: Int { images.shape[2] }
    /// Image width.
    public var width: Int { images.shape[3] }

    /// How many images each class has, indexed by class.
    public var classCounts: [Int] {
        var c = [Int](repeating: 0, count: classes)
        for l in labels { c[l] += 1 }
        return c
    }

    /// The images at `indices`, in that order (used by subsets and batching).
    public func subset(_ indices: [Int]) throws -> ImageSet {
        let inner = channels * height * width
        var data = [Float](repeating: 0, count: indices.count * inner)
        var labs = [Int]()
        labs.reserveCapacity(indices.count)
        for (k, i) in indices.enumerated() {
            guard i >= 0 && i < count else {
                throw DatasetError(.invalidArgument, "subset index \(i) outside 0..<\(count)")
            }
            data.replaceSubrange((k * inner)..<((k + 1) * inner), with: images.data[(i * inner)..<((i + 1) * inner)])
            labs.append(labels[i])
        }
        return ImageSet(unchecked: Tensor(uncheckedShape: [indices.count, channels, height, width], data: data),
                        labels: labs, classes: classes)
    }

    /// The first `n` images (all of them if `n >= count`): a quick, order-preserving cut.
    public func prefix(_ n: Int) -> ImageSet {
        let m = max(0, min(n, count))
        return ImageSet(unchecked: images.rows(0..<m), labels: Array(labels[0..<m]), classes: classes)
    }

    /// A seeded, class-balanced subset of `n` images, kept in original order.
    ///
    /// Classes are visited round-robin, each drawing from its own seeded shuffle, so every class gets
    /// `n / classes` images (the first `n % classes` classes one more); a class that runs out leaves
    /// its share to the others. `n >= count` returns every image.
    public func balancedSubset(_ n: Int, seed: UInt64) throws -> ImageSet {
        guard n >= 0 else { throw DatasetError(.invalidArgument, "subset size must be non-negative, got \(n)") }
        if n >= count { return self }
        var rng = SeededRNG(seed: SeededRNG.derive(seed, "balanced-subset"))
        var perClass = [[Int]](repeating: [], count: classes)
        for (i, l) in labels.enumerated() { perClass[l].append(i) }
        for c in 0..<classes {
            let p = rng.permutation(perClass[c].count)
            perClass[c] = p.map { perClass[c][$0] }
        }
        var cursor = [Int](repeating: 0, count: classes)
        var chosen = [Int]()
        chosen.reserveCapacity(n)
        while chosen.count < n {
            for c in 0..<classes where chosen.count < n && cursor[c] < perClass[c].count {
                chosen.append(perClass[c][cursor[c]])
                cursor[c] += 1
            }
        }
        return try subset(chosen.sorted())
    }
}
