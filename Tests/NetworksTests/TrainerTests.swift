import Testing
import TensorCore
@testable import Networks
import Trials

/// A fixed list of batches, the same every epoch.
struct FixedBatches: BatchSource {
    let list: [Batch]
    func batches(epoch: Int) -> AnyIterator<Batch> { AnyIterator(list.makeIterator()) }
}

@Suite struct TrainerTests {
    static func tinyBatch(seed: UInt64, n: Int = 16, size: Int = 8) -> Batch {
        var rng = SeededRNG(seed: seed)
        let x = Tensor.randomUniform([n, 3, size, size], 0, 1, rng: &rng)
        return Batch(x: x, y: (0..<n).map { $0 % 4 })
    }

    @Test func tinyModelOverfitsATinyBatch() throws {
        let model = try Model(ModelConfig(arch: .myrtle, width: 4, batchNorm: true, classes: 4, imageSize: 8), seed: 1)
        let trainer = try Trainer(model: model, settings: TrainingSettings(epochs: 40, learningRate: 0.05, momentum: 0.9))
        let batch = Self.tinyBatch(seed: 2)
        let history = try trainer.fit(FixedBatches(list: [batch]))
        // Random labels on 16 images: chance loss is ln 4 ≈ 1.39; memorizing drives it far below.
        #expect(history.first!.trainLoss > 1.2)
        #expect(history.last!.trainLoss < 0.1)
        #expect(try Evaluation.accuracy(model, x: batch.x, y: batch.y) == 1)
    }

    @Test func sameSeedGivesIdenticalWeights() throws {
        func run() throws -> [Float] {
            let model = try Model(ModelConfig(arch: .vgg11, width: 2, batchNorm: true, classes: 4, imageSize: 8), seed: 7)
            let trainer = try Trainer(model: model, settings: TrainingSettings(epochs: 2, learningRate: 0.01, weightDecay: 1e-3))
            try trainer.fit(FixedBatches(list: [Self.tinyBatch(seed: 1), Self.tinyBatch(seed: 2)]))
            return (model.parameters + model.buffers).flatMap(\.value.data)
        }
        let a = try run(), b = try run()
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern))
        let other = try Model(ModelConfig(arch: .vgg11, width: 2, batchNorm: true, classes: 4, imageSize: 8), seed: 8)
        #expect(other.parameters.flatMap(\.value.data) != Array(a.prefix(other.parameters.flatMap(\.value.data).count)))
    }

    @Test func divergenceIsATypedErrorNamingEpochAndStep() throws {
        let model = try Model(ModelConfig(arch: .convactually, depth: 2, width: 4, activation: .linear, classes: 4, imageSize: 8), seed: 1)
        // Linear activations: ReLU could die instead of overflowing and keep the loss finite.
        let trainer = try Trainer(model: model, settings: TrainingSettings(epochs: 50, learningRate: 1e6, momentum: 0.9))
        do {
            try trainer.fit(FixedBatches(list: [Self.tinyBatch(seed: 3), Self.tinyBatch(seed: 4)]))
            Issue.record("a learning rate of 1e6 should diverge")
        } catch let e as TrainingError {
            #expect(e.code == .diverged)
            #expect(e.message.contains("epoch") && e.message.contains("step"))
        }
    }

    @Test func callbacksSeeEveryEpochAndCancellationStops() throws {
        let model = try Model(ModelConfig(arch: .convactually, depth: 1, width: 4, classes: 4, imageSize: 8), seed: 1)
        let trainer = try Trainer(model: model, settings: TrainingSettings(epochs: 3, learningRate: 0.01))
        var seen: [Int] = []
        trainer.onEpoch = { seen.append($0.epoch) }
        let b = Self.tinyBatch(seed: 5)
        let h = try trainer.fit(FixedBatches(list: [b]), test: (b.x, b.y))
        #expect(seen == [1, 2, 3])
        #expect(h.allSatisfy { $0.testAccuracy != nil })
        var calls = 0
        trainer.isCancelled = { calls += 1; return calls > 1 }
        #expect(throws: TrainingError.self) { try trainer.fit(FixedBatches(list: [b, b])) }
    }
}
