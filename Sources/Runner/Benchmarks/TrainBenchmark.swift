import Datasets
import Dispatch
import Foundation
import Networks
import TensorCore
import Trials

/// `fsweep bench train`: training throughput of the engine on the paper's models.
public enum TrainBenchmark {
    /// One model's measurement.
    public struct Entry: Codable, Sendable {
        public var imagesPerSecond: Double
        public var gflops: Double
        public var fractionOfPeak: Double
        public var medianStepSeconds: Double
        /// Median CPU time (all threads) of a step: on a shared, loaded machine wall time measures the
        /// load, CPU time still measures the work (spin-waiting included).
        public var medianStepCPUSeconds: Double
        /// Median minor page faults of a step: near zero when tensor memory is reused across steps.
        public var pageFaultsPerStep: Int
        /// Peak resident set of the process so far, MB (run one model per process to read it per model).
        public var peakResidentMB: Double
        /// Where the model's own memory goes after the timed steps.
        public var memory: ModelMemory
        /// Mean loss of each step (warm-up and timed), to compare numerical quality with PyTorch from the same start.
        public var losses: [Double]
        enum CodingKeys: String, CodingKey {
            case pageFaultsPerStep = "page_faults_per_step", peakResidentMB = "peak_rss_mb", memory, losses
            case imagesPerSecond = "images_per_second", gflops, fractionOfPeak = "fraction_of_peak"
            case medianStepSeconds = "median_step_seconds", medianStepCPUSeconds = "median_step_cpu_seconds"
        }
    }

    /// The benchmark models: Myrtle and VGG11 (width 64) without and with BatchNorm, ConvActually-4 (64, ReLU),
    /// and the "4-layer 32-channel circular linear CNN": ConvActually-4, width 32, `activation: linear`, with input
    /// normalization inside the model as the probes use it. `bench/torch_models.py` builds the same models.
    public static let models: [(String, ModelConfig)] = [
        ("myrtle", ModelConfig(arch: .myrtle, width: 64)),
        ("myrtle-bn", ModelConfig(arch: .myrtle, width: 64, batchNorm: true)),
        ("vgg11", ModelConfig(arch: .vgg11, width: 64)),
        ("vgg11-bn", ModelConfig(arch: .vgg11, width: 64, batchNorm: true)),
        ("convactually", ModelConfig(arch: .convactually, depth: 4, width: 64)),
        ("convactually-linear", ModelConfig(arch: .convactually, depth: 4, width: 32, activation: .linear,
                                            normalization: .init(mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26]))),
    ]

    /// Multiply-adds ×2 of one forward pass over `batch` images (convolutions and dense layers;
    /// circular convolutions counted as their per-frequency complex products, 8 real FLOPs each).
    public static func forwardFLOPs(_ model: Model, batch: Int) -> Double {
        var flops = 0.0
        var h = model.config.imageSize
        // Per-frequency complex products of a full-image circular convolution.
        func circular(_ c: CircularConv2D) -> Double {
            8 * Double(batch * c.outChannels * c.inChannels * c.height * (c.width / 2 + 1))
        }
        for layer in model.network.layers {
            switch layer {
            case let c as Conv2D:
                let k = c.weight.value.shape[2]
                flops += 2 * Double(batch * c.weight.value.shape[0] * c.weight.value.shape[1] * k * k * h * h)
            case let c as CircularConv2D:
                flops += circular(c)
            case let s as CircularConvStack:
                flops += s.convs.map(circular).reduce(0, +)
            case let l as Linear:
                flops += 2 * Double(batch * l.weight.value.count)
            case let p as MaxPool2D:
                if let k = p.kernel { h /= k }
            default: break
            }
        }
        return flops
    }

    /// The benchmark's images and labels: uniform pixels from seed 1 and labels `i mod 10`. `bench/train_torch.py`
    /// draws its own; for the loss comparison it reads this batch from `--dump-batch`.
    public static func benchmarkBatch(_ batch: Int) -> (Tensor, [Int]) {
        var rng = SeededRNG(seed: 1)
        return (Tensor.randomUniform([batch, 3, 32, 32], 0, 1, rng: &rng), (0..<batch).map { $0 % 10 })
    }

    /// The model's parameters and the batch as `.npy` files in `directory`.
    static func write(_ model: Model, _ x: Tensor, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (i, p) in model.parameters.enumerated() {
            try NPY.encode(p.value).write(to: directory.appendingPathComponent("param_\(i).npy"))
        }
        try NPY.encode(x).write(to: directory.appendingPathComponent("x.npy"))
    }

    /// CPU time of the whole process so far (user + system, all threads).
    static func processCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// Runs `steps` timed SGD steps after `warmup`, per model; training FLOPs = 3 × forward.
    /// With `dump`, each model's initial parameters (in `Model.parameters` order, `param_<i>.npy`) and the batch
    /// (`x.npy`) are written to `dump/<model>/`, so `bench/train_torch.py --load` starts from the same weights.
    public static func run(threads: Int, batch: Int = 128, steps: Int = 5, warmup: Int = 1,
                           only: Set<String>? = nil, dump: URL? = nil,
                           log: (String) -> Void = { _ in }) throws -> (peak: Double, entries: [(String, Entry)]) {
        Parallel.setThreads(threads)
        let peak = FMAPeak.measure(threads: threads)
        log(FMAPeak.describe(peak, threads: threads))
        let (x, y) = benchmarkBatch(batch)
        var out: [(String, Entry)] = []
        for (name, config) in models where only?.contains(name) ?? true {
            let model = try Model(config, seed: 1)
            if let dump { try write(model, x, to: dump.appendingPathComponent(name)) }
            let trainer = try Trainer(model: model, settings: TrainingSettings(epochs: 1, learningRate: 0.001))
            var losses: [Double] = []
            for s in 0..<warmup { losses.append(try trainer.step(Batch(x: x, y: y), epoch: 0, step: s).loss) }
            var times: [Double] = [], cpuTimes: [Double] = [], faults: [Int] = []
            for s in 0..<steps {
                let t0 = DispatchTime.now().uptimeNanoseconds, c0 = processCPUSeconds(), f0 = Memory.minorPageFaults
                losses.append(try trainer.step(Batch(x: x, y: y), epoch: 0, step: s).loss)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                cpuTimes.append(processCPUSeconds() - c0)
                faults.append(Memory.minorPageFaults - f0)
            }
            let median = times.upperMedian ?? .nan, cpuMedian = cpuTimes.upperMedian ?? .nan
            let gflops = 3 * forwardFLOPs(model, batch: batch) / median / 1e9
            let e = Entry(imagesPerSecond: Double(batch) / median, gflops: gflops, fractionOfPeak: gflops / peak,
                          medianStepSeconds: median, medianStepCPUSeconds: cpuMedian,
                          pageFaultsPerStep: faults.upperMedian ?? 0,
                          peakResidentMB: Double(Memory.peakResidentBytes) / 1e6, memory: model.memory, losses: losses)
            log(String(format: "%@ %8.1f img/s  %7.1f GFLOP/s  %5.1f%% of peak  (median step %.3f s, %.3f CPU-s, %d page faults, peak RSS %.0f MB)",
                       name.padding(toLength: 19, withPad: " ", startingAt: 0), e.imagesPerSecond, e.gflops,
                       100 * e.fractionOfPeak, median, cpuMedian, e.pageFaultsPerStep, e.peakResidentMB))
            out.append((name, e))
        }
        return (peak, out)
    }
}
