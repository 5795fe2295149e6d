import Foundation
import Networks
import TensorCore
import Trials

/// Time to compute the `sensitivity` map (per-class input gradients + FFT + accumulation) for random images
/// on the paper's models: the number BENCHMARKS.md compares with PyTorch (`bench/sensitivity_torch.py`).
public enum SensitivityBenchmark {
    /// One measured model.
    public struct Entry: Sendable {
        public var model: String
        public var images: Int
        public var classes: Int
        /// Median wall time over the repeats, seconds.
        public var seconds: Double
        public var imagesPerSecond: Double { Double(images) / seconds }
    }

    /// The benchmark models, 32×32×3, `classes` outputs: Myrtle (width 64), ConvActually-4 (width 64, ReLU) and
    /// a linear CNN, ConvActually-4 width 32 with `activation: linear` (its gradients are computed once).
    public static func configs(classes: Int, imageSize: Int = 32) -> [(String, ModelConfig)] {
        let norm = ModelConfig.Normalization(mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26])
        return [
            ("myrtle", ModelConfig(arch: .myrtle, width: 64, classes: classes, imageSize: imageSize, normalization: norm)),
            ("convactually4", ModelConfig(arch: .convactually, depth: 4, width: 64, classes: classes, imageSize: imageSize,
                                          normalization: norm)),
            ("convactually-linear", ModelConfig(arch: .convactually, depth: 4, width: 32, activation: .linear, classes: classes,
                                                imageSize: imageSize, normalization: norm)),
        ]
    }

    /// Runs every model `repeats` times on `images` random images (seeded) and reports the median time.
    public static func run(images: Int = 1000, classes: Int = 10, threads: Int = 2, batchSize: Int = ModelEvaluation.gradientBatchSize,
                           repeats: Int = 1, only: String? = nil, log: (String) -> Void = { _ in }) throws -> [Entry] {
        Parallel.setThreads(threads)
        var rng = SeededRNG(seed: 42)
        let x = Tensor.randomUniform([images, 3, 32, 32], 0, 1, rng: &rng)
        var out: [Entry] = []
        for (name, cfg) in configs(classes: classes) where only == nil || only == name {
            let model = try Model(cfg, seed: 1)
            _ = try SensitivityProbe.maps(model, x.rows(0..<min(images, 4)), batchSize: batchSize)  // FFT plans, buffers
            var times: [Double] = []
            for _ in 0..<max(1, repeats) {
                let start = Date()
                _ = try SensitivityProbe.maps(model, x, batchSize: batchSize)
                times.append(Date().timeIntervalSince(start))
            }
            let e = Entry(model: name, images: images, classes: classes, seconds: times.upperMedian ?? .nan)
            log("\(name): \(images) images × \(classes) classes in \(String(format: "%.2f", e.seconds)) s (\(String(format: "%.1f", e.imagesPerSecond)) images/s, \(threads) threads)")
            out.append(e)
        }
        return out
    }
}
