import Dispatch
import Foundation
import Networks
import Sweeps
import TensorCore
import Trials

/// `fsweep bench trial`: one trial end to end as a worker runs it (`LocalTrial.run`: data generation, training with
/// per-epoch evaluation, probes) plus the encoding of its result for the wire, with the time of each phase.
/// `bench/trial_torch.py` does the same work the way a PyTorch user would write it.
public enum TrialBenchmark {
    /// The two trial shapes: the quickstart sweep's largest grid point, and a paper-sized ConvActually trial.
    public enum Shape: String, CaseIterable, Sendable {
        /// `sweeps/quickstart.yaml` at `model.depth: 4`, seed 0: ConvActually-4 width 16 on 16×16 synthetic images
        /// (1,000 train / 500 test), 3 epochs of batch 128, the sensitivity probe on the 500 test images.
        case quickstart
        /// ConvActually depth 4 width 64 on 32×32 synthetic images (2,000 train / 1,000 test), 2 epochs of batch
        /// 128, the sensitivity probe on 1,000 test images.
        case paper
    }

    /// Seconds per phase of one trial.
    public struct Phases: Codable, Sendable {
        /// Data generation, channel statistics, model construction and probe set-up (until the first step).
        public var setup: Double
        /// Training steps and the per-epoch test evaluation.
        public var training: Double
        /// The probes after training.
        public var probes: Double
        /// The result's wire encoding.
        public var encoding: Double
        public var total: Double
        /// Bytes of the encoded result.
        public var resultBytes: Int
        /// Peak resident set of the process after the trial, MB.
        public var peakResidentMB: Double

        enum CodingKeys: String, CodingKey {
            case setup, training, probes, encoding, total, resultBytes = "result_bytes", peakResidentMB = "peak_rss_mb"
        }
    }

    /// The trial config of a shape; `quickstart` reads the sweep file (a path relative to the working directory).
    public static func config(_ shape: Shape, quickstart: String = "sweeps/quickstart.yaml") throws -> TrialConfig {
        switch shape {
        case .quickstart:
            let trials = try SweepSpec.load(path: quickstart).expand()
            guard let point = trials.first(where: { $0.axes["model.depth"] == .number(4) && $0.seedRank == 0 }) ?? trials.last else {
                throw TensorError(.invalidArgument, "\(quickstart): the sweep has no trials")
            }
            return try TrialConfig.decode(json: point.configJSON)
        case .paper:
            return TrialConfig(dataset: DatasetSpec(name: .synthetic, imageSize: 32, trainSize: 2000, testSize: 1000),
                               model: ModelSpec(arch: .convactually, depth: 4, width: 64, activation: .relu),
                               train: TrainSpec(epochs: 2, batchSize: 128, lr: 0.01, momentum: 0.9),
                               probes: [ProbeRequest(name: "sensitivity", images: 1000)], seed: 0)
        }
    }

    /// Runs the trial once on `threads` threads; `encode` turns the result into the bytes a worker sends and
    /// returns their count (the wire format lives in `Cluster`, which this module does not import).
    public static func run(_ config: TrialConfig, threads: Int, encode: (TrialResult) throws -> Int) throws -> Phases {
        let t0 = now()
        var firstEpochStart: Double?, lastEpochEnd = t0
        let outcome = try LocalTrial.run(config, threads: threads, onEpoch: { report, _ in
            let end = now()
            if firstEpochStart == nil { firstEpochStart = end - report.seconds }
            lastEpochEnd = end
        })
        let t1 = now()
        let bytes = try encode(outcome.result)
        let t2 = now()
        let start = firstEpochStart ?? t0
        return Phases(setup: start - t0, training: lastEpochEnd - start, probes: t1 - lastEpochEnd, encoding: t2 - t1,
                      total: t2 - t0, resultBytes: bytes, peakResidentMB: Double(Memory.peakResidentBytes) / 1e6)
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
