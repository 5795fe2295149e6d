import Datasets
import Dispatch
import Foundation
import Networks
import TensorCore

/// `fsweep bench train`: training throughput of the engine on the paper's models.
public enum TrainBenchmark {
    /// One model's measurement.
    public struct Entry: Codable, Sendable {
        public var imagesPerSecond: Double
        public var gflops: Double
        public var fractionOfPeak: Double
        public var medianStepSeconds: Double
        enum CodingKeys: String, CodingKey {
            case imagesPerSecond = "images_per_second", gflops, fractionOfPeak = "fraction_of_peak"
            case medianStepSeconds = "median_step_seconds"
        }
    }

    /// The three configurations the issue names: Myrtle (64, no BN), VGG11 (BN), ConvActually-4 (64, ReLU).
    public static let models: [(String, ModelConfig)] = [
        ("myrtle", ModelConfig(arch: .myrtle, width: 64)),
        ("vgg11", ModelConfig(arch: .vgg11, width: 64, batchNorm: true)),
        ("convactually", ModelConfig(arch: .convactually, depth: 4, width: 64)),
    ]

    /// Multiply-adds ×2 of one forward pass over `batch` images (convolutions and dense layers;
    /// circular convolutions counted as their per-frequency complex products, 8 real FLOPs each).
    public static func forwardFLOPs(_ model: Model, batch: Int) -> Double {
        var flops = 0.0
        var h = model.config.imageSize
        for layer in model.network.layers {
            switch layer {
            case let c as Conv2D:
                let k = c.weight.value.shape[2]
                flops += 2 * Double(batch * c.weight.value.shape[0] * c.weight.value.shape[1] * k * k * h * h)
            case let c as CircularConv2D:
                flops += 8 * Double(batch * c.outChannels * c.inChannels * c.height * (c.width / 2 + 1))
            case let l as Linear:
                flops += 2 * Double(batch * l.weight.value.count)
            case let p as MaxPool2D:
                if let k = p.kernel { h /= k }
            default: break
            }
        }
        return flops
    }

    /// Runs `steps` timed SGD steps after `warmup`, per model; training FLOPs = 3 × forward.
    public static func run(threads: Int, batch: Int = 128, steps: Int = 5, warmup: Int = 1,
                           log: (String) -> Void = { _ in }) throws -> (peak: Double, entries: [(String, Entry)]) {
        Parallel.setThreads(threads)
        let peak = FMAPeak.measure(threads: threads)
        log(String(format: "FMA peak on %d thread%@: %.1f GFLOP/s", threads, threads == 1 ? "" : "s", peak))
        var rng = SeededRNG(seed: 1)
        let x = Tensor.randomUniform([batch, 3, 32, 32], 0, 1, rng: &rng)
        let y = (0..<batch).map { $0 % 10 }
        var out: [(String, Entry)] = []
        for (name, config) in models {
            let model = try Model(config, seed: 1)
            let trainer = try Trainer(model: model, settings: TrainingSettings(epochs: 1, learningRate: 0.001))
            for s in 0..<warmup { _ = try trainer.step(Batch(x: x, y: y), epoch: 0, step: s) }
            var times: [Double] = []
            for s in 0..<steps {
                let t0 = DispatchTime.now().uptimeNanoseconds
                _ = try trainer.step(Batch(x: x, y: y), epoch: 0, step: s)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            }
            let median = times.sorted()[times.count / 2]
            let gflops = 3 * forwardFLOPs(model, batch: batch) / median / 1e9
            let e = Entry(imagesPerSecond: Double(batch) / median, gflops: gflops, fractionOfPeak: gflops / peak,
                          medianStepSeconds: median)
            log(String(format: "%-13@ %8.1f img/s  %7.1f GFLOP/s  %5.1f%% of peak  (median step %.3f s)",
                       name, e.imagesPerSecond, e.gflops, 100 * e.fractionOfPeak, median))
            out.append((name, e))
        }
        return (peak, out)
    }
}
