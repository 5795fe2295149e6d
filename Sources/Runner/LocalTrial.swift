import Datasets
import Foundation
import Networks
import Probes
import Sweeps
import TensorCore
import Trials

/// Adapts the seeded `BatchIterator` to the trainer's `BatchSource`.
struct EpochBatches: BatchSource {
    let set: ImageSet
    let batchSize: Int
    let seed: UInt64
    let augmentation: Augmentation?

    func batches(epoch: Int) -> AnyIterator<Batch> {
        // batchSize was validated before training, so the iterator cannot fail to initialize.
        guard var it = try? BatchIterator(set, batchSize: batchSize, epoch: epoch, seed: seed, shuffle: true,
                                          augmentation: augmentation, lastBatch: .keep) else { return AnyIterator { nil } }
        return AnyIterator { it.next().map { Batch(x: $0.x, y: $0.y) } }
    }
}

/// One trial from config to trained model and metrics: what `fsweep train` and every worker run.
public enum LocalTrial {
    /// What a finished trial hands back: the result for the store and the model for saving or probing.
    public struct Outcome {
        public var result: TrialResult
        public var model: Model
        public var train: ImageSet
        public var test: ImageSet
        public var stats: ChannelStats
    }

    /// A sweep's probe request as the probe suite takes it; the probe seed derives from the trial seed.
    static func probeSpec(_ r: ProbeRequest, seed: UInt64) -> ProbeSpec {
        func value(_ j: JSONValue) -> ProbeValue? {
            switch j {
            case .null, .object: return nil
            case .bool(let b): return .bool(b)
            case .number(let d): return .number(d)
            case .string(let s): return .string(s)
            case .array(let a): return .list(a.compactMap(value))
            }
        }
        let params = (r.params ?? [:]).compactMapValues(value)
        return ProbeSpec(name: r.name, every: r.every,
                         options: ProbeOptions(images: r.images, compat: r.compat == .paper ? .paper : .clean,
                                               params: params, seed: SeededRNG.derive(seed, "probes.\(r.name)")))
    }

    /// Loads data, builds the model, trains, and measures.
    ///
    /// Seeds: the trial seed picks data subsets; `derive(seed, "model")` the initial weights and
    /// dropout; `derive(seed, "batches")` the data order and augmentation. Deterministic failures
    /// (bad settings, corrupt data, divergence) are thrown as non-retryable `TrialFailure`s.
    public static func run(_ config: TrialConfig, threads: Int? = nil,
                           onEpoch: @escaping (EpochReport, [String: Double]) -> Void = { _, _ in },
                           isCancelled: @escaping () -> Bool = { false }) throws -> Outcome {
        let start = Date()
        let seed = UInt64(bitPattern: Int64(config.seed))
        // A thread count fixed in the trial config wins: it is part of what makes the run reproducible.
        Parallel.setThreads(config.train.threads ?? threads ?? 1)
        let (train, test, stats, model, trainer, batchSize) = try prepare(config, seed: seed)
        // Probes are checked before training so a bad request never wastes a run.
        let suite: ProbeSuite
        do {
            suite = try ProbeSuite(config.probes.map { probeSpec($0, seed: seed) },
                                   data: ProbeData(test: test, train: train, stats: stats))
            _ = try suite.begin(model: model)
        } catch let e as ProbeError {
            throw TrialFailure(reason: "probes: \(e.message)", retryable: false)
        }
        // Scalars of probes that record during training join that epoch's row (unsuffixed names), so
        // per-epoch curves such as e_low/e_high live beside loss and accuracy.
        var probeRows: [Int: [String: Double]] = [:]
        trainer.onEpoch = { report in
            let recorded = try suite.onEpoch(report.epoch, model: model)
            let suffix = ProbeResult.epochSuffix(report.epoch)
            var row: [String: Double] = [:]
            for (k, v) in recorded.scalars { row[k.hasSuffix(suffix) ? String(k.dropLast(suffix.count)) : k] = v }
            probeRows[report.epoch] = row
            onEpoch(report, row)
        }
        trainer.isCancelled = isCancelled
        let source = EpochBatches(set: train, batchSize: batchSize, seed: SeededRNG.derive(seed, "batches"),
                                  augmentation: try TrialSettings.dataset(config.dataset).augmentation)
        let history: [EpochReport]
        do {
            history = try trainer.fit(source, test: (test.images, test.labels))
        } catch let e as TrainingError {
            switch e.code {
            case .diverged, .invalidSettings: throw TrialFailure(reason: e.message, retryable: false)
            case .cancelled: throw TrialFailure(reason: e.message, retryable: true)
            }
        }
        var metrics: [String: Double] = [
            "epochs_run": Double(history.count),
            "parameters": Double(model.parameters.reduce(0) { $0 + $1.value.count }),
        ]
        if let last = history.last {
            metrics["train_loss"] = last.trainLoss
            metrics["train_accuracy"] = last.trainAccuracy
            metrics["test_accuracy"] = last.testAccuracy ?? .nan
            metrics["best_test_accuracy"] = history.compactMap(\.testAccuracy).max() ?? .nan
            metrics["images_per_second"] = history.map(\.imagesPerSecond).reduce(0, +) / Double(history.count)
        }
        let probes: ProbeResult
        do { probes = try suite.finish(model: model, epoch: history.last?.epoch) } catch let e as ProbeError {
            throw TrialFailure(reason: "probes: \(e.message)", retryable: false)
        }
        for (k, v) in probes.scalars { metrics[k] = v }
        let arrays = probes.arrays.sorted { $0.key < $1.key }.map { NamedArray(name: $0.key, shape: $0.value.shape, data: $0.value.data) }
        let epochs = history.map { Self.row($0).merging(probeRows[$0.epoch] ?? [:]) { a, _ in a } }
        let result = TrialResult(metrics: metrics, arrays: arrays, epochs: epochs,
                                 durationSeconds: Date().timeIntervalSince(start))
        return Outcome(result: result, model: model, train: train, test: test, stats: stats)
    }

    /// `result` with the model's final weights as arrays `model.<parameter>` and its description as metadata.
    public static func withCheckpoint(_ result: TrialResult, model: Model) -> TrialResult {
        var out = result
        out.arrays += Checkpoint.tensors(of: model).sorted { $0.key < $1.key }.map {
            NamedArray(name: TrialResult.modelPrefix + $0.key, shape: $0.value.shape, data: $0.value.data)
        }
        out.modelMetadata = model.config.safetensorsMetadata
        return out
    }

    /// The per-epoch metrics row stored in the sweep's `epochs` table.
    public static func row(_ r: EpochReport) -> [String: Double] {
        var m: [String: Double] = ["epoch": Double(r.epoch), "train_loss": r.trainLoss, "train_accuracy": r.trainAccuracy,
                                   "lr": r.learningRate, "images_per_second": r.imagesPerSecond, "seconds": r.seconds]
        if let t = r.testAccuracy { m["test_accuracy"] = t }
        return m
    }

    /// The trial's train and test images and the training split's channel statistics, exactly as training
    /// loads them (so probes run later on a checkpoint see the same data).
    static func data(_ config: TrialConfig, seed: UInt64) throws -> (ImageSet, ImageSet, ChannelStats) {
        let dataSettings = try TrialSettings.dataset(config.dataset)
        let train: ImageSet, test: ImageSet
        do { (train, test) = try DatasetLoader.load(dataSettings, seed: seed) } catch let e as DatasetError {
            throw TrialFailure(reason: e.description, retryable: false)
        }
        return (train, test, ChannelStats.compute(train))
    }

    static func prepare(_ config: TrialConfig, seed: UInt64) throws
        -> (ImageSet, ImageSet, ChannelStats, Model, Trainer, Int) {
        let (train, test, stats) = try data(config, seed: seed)
        let batchSize = TrialSettings.batchSize(config.train)
        guard batchSize > 0 else { throw TrialFailure(reason: "train.batch_size must be positive, got \(batchSize)", retryable: false) }
        do {
            let model = try Model(TrialSettings.model(config.model, data: train, stats: stats), seed: SeededRNG.derive(seed, "model"))
            let trainer = try Trainer(model: model, settings: TrialSettings.training(config.train))
            return (train, test, stats, model, trainer, batchSize)
        } catch let e as TensorError {
            throw TrialFailure(reason: "invalid model: \(e.message)", retryable: false)
        } catch let e as TrainingError {
            throw TrialFailure(reason: e.message, retryable: false)
        }
    }
}

/// The built-in Swift runner the workers use: trains with our engine and reports per-epoch progress.
public struct BuiltinRunner: TrialRunner {
    /// Compute threads when the trial does not fix `train.threads` (default 1).
    public let threads: Int?

    public init(threads: Int? = nil) { self.threads = threads }

    public func run(_ config: TrialConfig, trialID: String, events: TrialEvents) throws -> TrialResult {
        try run(config, trialID: trialID, events: events, request: RunRequest())
    }

    /// With `request.saveModel` the result also carries the final weights as arrays `model.<parameter>` and
    /// the model description as `modelMetadata` (the store writes them as the trial's `model.safetensors`).
    public func run(_ config: TrialConfig, trialID: String, events: TrialEvents, request: RunRequest) throws -> TrialResult {
        let outcome = try LocalTrial.run(config, threads: threads, onEpoch: { r, probes in
            events.epoch(EpochProgress(epoch: r.epoch, epochs: r.epochs, metrics: LocalTrial.row(r).merging(probes) { a, _ in a }))
        }, isCancelled: {
            // The trainer asks once per training step, so each question marks one step of real work.
            events.step()
            return events.isCancelled()
        })
        return request.saveModel ? LocalTrial.withCheckpoint(outcome.result, model: outcome.model) : outcome.result
    }
}
