import Foundation
import TensorCore

/// One mini-batch: images `[B, C, H, W]` in pixel space and integer labels.
public struct Batch: Sendable {
    public var x: Tensor
    public var y: [Int]
    public init(x: Tensor, y: [Int]) { self.x = x; self.y = y }
}

/// A source of training batches for each epoch (shuffled and augmented by its owner, seeded).
public protocol BatchSource {
    /// The batches of epoch `epoch` (0-based), in order.
    func batches(epoch: Int) -> AnyIterator<Batch>
}

/// Optimizer and schedule settings for one training run.
public struct TrainingSettings: Sendable, Hashable {
    public var epochs: Int
    public var learningRate: Double
    public var momentum: Double
    public var weightDecay: Double
    public var schedule: LRSchedule

    public init(epochs: Int, learningRate: Double, momentum: Double = 0.9, weightDecay: Double = 0,
                schedule: LRSchedule = .constant) {
        self.epochs = epochs
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.schedule = schedule
    }
}

/// What one finished epoch measured.
public struct EpochReport: Sendable, Codable {
    public var epoch: Int
    public var epochs: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var testAccuracy: Double?
    public var learningRate: Double
    public var imagesPerSecond: Double
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case epoch, epochs, seconds
        case trainLoss = "train_loss", trainAccuracy = "train_accuracy", testAccuracy = "test_accuracy"
        case learningRate = "lr", imagesPerSecond = "images_per_second"
    }
}

/// Why training stopped early.
public struct TrainingError: Error, CustomStringConvertible {
    public enum Code: String, Sendable { case diverged, cancelled, invalidSettings }
    public let code: Code
    public let message: String
    public let cause: (any Error)?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { message }
}

/// Runs SGD epochs over a batch source, evaluates, and reports through callbacks.
public final class Trainer {
    public let model: Model
    public let settings: TrainingSettings
    public let optimizer: SGD
    public private(set) var scheduler: LRScheduler
    /// Called after every epoch (progress lines, probes during training); throwing stops training.
    public var onEpoch: ((EpochReport) throws -> Void)?
    /// Polled between steps; returning true ends training with `TrainingError.cancelled`.
    public var isCancelled: () -> Bool = { false }

    public init(model: Model, settings: TrainingSettings) throws {
        guard settings.epochs >= 0, settings.learningRate > 0, settings.learningRate.isFinite,
              settings.momentum >= 0, settings.momentum < 1, settings.weightDecay >= 0 else {
            throw TrainingError(.invalidSettings, "invalid training settings: epochs ≥ 0, lr > 0, 0 ≤ momentum < 1, weight decay ≥ 0 required (got \(settings))")
        }
        self.model = model
        self.settings = settings
        self.optimizer = SGD(learningRate: Float(settings.learningRate), momentum: Float(settings.momentum),
                             weightDecay: Float(settings.weightDecay))
        self.scheduler = LRScheduler(settings.schedule, initialLR: settings.learningRate, epochs: settings.epochs)
    }

    /// One SGD step on a batch; returns (mean loss, correct count). Throws on a non-finite loss.
    public func step(_ batch: Batch, epoch: Int, step: Int) throws -> (loss: Double, correct: Int) {
        let logits = try model.forward(batch.x, mode: .train)
        let (loss, grad, correct) = try SoftmaxCrossEntropy.evaluate(logits: logits, labels: batch.y)
        guard loss.isFinite else {
            throw TrainingError(.diverged, "training diverged at epoch \(epoch + 1), step \(step + 1): loss is \(loss); lower the learning rate or weight decay")
        }
        try model.parameterGradients(grad)
        optimizer.step(model.parameters)
        return (loss, correct)
    }

    /// Trains for `settings.epochs` (or until a plateau schedule stops), returning every epoch's report.
    @discardableResult
    public func fit(_ source: BatchSource, test: (x: Tensor, y: [Int])? = nil, evalBatchSize: Int = 256) throws -> [EpochReport] {
        var history: [EpochReport] = []
        for epoch in 0..<settings.epochs {
            let start = Date()
            var lossSum = 0.0, correct = 0, seen = 0, s = 0
            let it = source.batches(epoch: epoch)
            while let batch = it.next() {
                if isCancelled() { throw TrainingError(.cancelled, "training cancelled at epoch \(epoch + 1), step \(s + 1)") }
                let r = try step(batch, epoch: epoch, step: s)
                lossSum += r.loss * Double(batch.y.count)
                correct += r.correct
                seen += batch.y.count
                s += 1
            }
            let trainSeconds = Date().timeIntervalSince(start)
            let testAcc = try test.map { try Evaluation.accuracy(model, x: $0.x, y: $0.y, batchSize: evalBatchSize) }
            let lr = scheduler.lr
            let trainLoss = seen > 0 ? lossSum / Double(seen) : .nan
            let report = EpochReport(epoch: epoch + 1, epochs: settings.epochs, trainLoss: trainLoss,
                                     trainAccuracy: seen > 0 ? Double(correct) / Double(seen) : 0, testAccuracy: testAcc,
                                     learningRate: lr, imagesPerSecond: Double(seen) / max(trainSeconds, 1e-9),
                                     seconds: Date().timeIntervalSince(start))
            history.append(report)
            optimizer.learningRate = Float(scheduler.endEpoch(epoch, trainLoss: trainLoss))
            try onEpoch?(report)
            if scheduler.shouldStop { break }
        }
        return history
    }
}

/// Inference helpers shared by the trainer, the CLI and the probes.
public enum Evaluation {
    /// Logits `[N, K]` for images `[N, C, H, W]`, in evaluation mode, batch by batch.
    public static func logits(_ model: Model, x: Tensor, batchSize: Int = 256) throws -> Tensor {
        let n = x.shape.first ?? 0
        var parts: [Tensor] = []
        var i = 0
        while i < n {
            let j = min(n, i + batchSize)
            parts.append(try model.forward(x.rows(i..<j), mode: .eval))
            i = j
        }
        if parts.isEmpty { return Tensor(zeros: [0, model.config.classes]) }
        return try Tensor.stack(parts)
    }

    /// Fraction of images whose arg-max logit equals the label.
    public static func accuracy(_ model: Model, x: Tensor, y: [Int], batchSize: Int = 256) throws -> Double {
        let l = try logits(model, x: x, batchSize: batchSize)
        guard !y.isEmpty else { return 0 }
        let k = l.shape[1]
        var correct = 0
        for i in 0..<y.count {
            var best = 0
            for j in 1..<k where l.data[i * k + j] > l.data[i * k + best] { best = j }
            if best == y[i] { correct += 1 }
        }
        return Double(correct) / Double(y.count)
    }
}
