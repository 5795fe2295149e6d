import Foundation
import Testing
import Datasets
import Networks
import TensorCore
import Trials
@testable import Probes

/// The theory's prediction on data with a known answer: a network trained where the class evidence is only
/// in high frequencies becomes sensitive at higher radii than one trained where it is only in low frequencies.
@Suite struct ScienceCheckTests {
    static func trainedCentroid(_ band: FrequencyBand) throws -> (centroid: Double, accuracy: Double) {
        var settings = DatasetSettings()
        settings.imageSize = 16
        settings.trainSize = 600
        settings.testSize = 100
        settings.classes = 4
        settings.band = band
        settings.snr = 1  // strong evidence: a few epochs of a linear classifier reach > 90% in either band
        let (train, test) = try DatasetLoader.load(settings, seed: 1)
        let stats = ChannelStats.compute(train)
        let model = try Model(ModelConfig(arch: .convactually, depth: 1, width: 4, classes: 4, channels: 3, imageSize: 16,
                                          normalization: .init(mean: stats.mean, std: stats.std)), seed: 3)
        let trainer = try Trainer(model: model, settings: TrainingSettings(epochs: 4, learningRate: 0.05, momentum: 0.9))
        try trainer.fit(SetBatches(set: train, batchSize: 32))
        let r = try ProbeRegistry.run("sensitivity", model: model, data: ProbeData(test: test, train: train, stats: stats))
        return (try #require(r.scalars["sensitivity.centroid"]), try ModelEvaluation.accuracy(model, x: test.images, y: test.labels))
    }

    @Test func highBandTrainingMovesSensitivityOutward() throws {
        let low = try Self.trainedCentroid(.low), high = try Self.trainedCentroid(.high)
        // Both learned the task (chance is 0.25), so the comparison is about trained networks. A random
        // init is spectrally white (centroid ≈ 6.1 on 16×16); training pulls the low-band model inward.
        #expect(low.accuracy > 0.8 && high.accuracy > 0.8, "accuracies low \(low.accuracy), high \(high.accuracy)")
        #expect(high.centroid > low.centroid + 1, "centroids: low band \(low.centroid), high band \(high.centroid)")
    }
}
