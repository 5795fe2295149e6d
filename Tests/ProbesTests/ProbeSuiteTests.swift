import Testing
import Datasets
import Networks
import TensorCore
@testable import Probes
import Trials

@Suite struct ProbeSuiteTests {
    @Test func registryKnowsEveryNameAndRejectsOthers() throws {
        for name in ProbeRegistry.names { #expect(try ProbeRegistry.make(name).name == name) }
        #expect(Set(ProbeRegistry.names) == ["sensitivity", "fourier_heatmap", "lfc_hfc", "diffeo_stability",
                                             "frequency_principle", "filter_spectrum", "filtered_accuracy"])
        // the sweep-file vocabulary and the registry are the same set: a probe added to one is in the other
        #expect(Set(ProbeRegistry.names) == Set(ProbeName.allCases.map(\.rawValue)))
        #expect(Set(ProbeRequest.knownNames) == Set(ProbeRegistry.names))
        #expect(throws: ProbeError.self) { try ProbeRegistry.make("sensitivty") }
        #expect(throws: ProbeError.self) { try ProbeSuite([ProbeSpec(name: "sensitivity", every: 0)], data: ProbeData()) }
        #expect(throws: ProbeError.self) {
            try ProbeSuite([ProbeSpec(name: "lfc_hfc", options: ProbeOptions(params: ["radius": .number(3)]))], data: ProbeData())
        }
    }

    /// Driven by the trainer's callback: `sensitivity` every 2 epochs, `frequency_principle` every epoch by
    /// default (both also at epoch 0, from `begin`); suffixes, curves and the reuse of the last epoch's values at the end.
    @Test func scheduleSuffixesAndCurves() throws {
        let size = 6
        let model = try Model(ModelConfig(arch: .convactually, depth: 1, width: 2, classes: 3, channels: 3, imageSize: size), seed: 1)
        let train = try ImageSet(images: randomImages(30, size: size, seed: 1), labels: (0..<30).map { $0 % 3 }, classes: 3)
        let test = try ImageSet(images: randomImages(9, size: size, seed: 2), labels: (0..<9).map { $0 % 3 }, classes: 3)
        let suite = try ProbeSuite([ProbeSpec(name: "sensitivity", every: 2), ProbeSpec(name: "frequency_principle")],
                                   data: ProbeData(test: test, train: train))
        var streamed = try suite.begin(model: model)
        let trainer = try Trainer(model: model, settings: TrainingSettings(epochs: 4, learningRate: 0.1))
        trainer.onEpoch = { report in streamed.merge(try suite.onEpoch(report.epoch, model: model)) }
        try trainer.fit(SetBatches(set: train, batchSize: 10))
        let r = try suite.finish(model: model, epoch: 4)
        for e in [0, 2, 4] { #expect(r.arrays["sensitivity.map@e\(e)"] != nil && streamed.arrays["sensitivity.map@e\(e)"] != nil) }
        for e in [1, 3] { #expect(r.arrays["sensitivity.map@e\(e)"] == nil) }
        #expect(r.arrays["sensitivity.map"] == r.arrays["sensitivity.map@e4"])
        #expect(r.arrays["sensitivity.epochs"]?.data == [0, 2, 4])
        #expect(r.arrays["frequency_principle.epochs"]?.data == [0, 1, 2, 3, 4])
        let curve = try #require(r.arrays["frequency_principle.e_low.by_epoch"])
        #expect(curve.count == 5)
        for e in 0...4 { #expect(curve.data[e] == Float(r.scalars["frequency_principle.e_low@e\(e)"]!)) }
        // The weights changed, so the recorded values differ between epochs.
        #expect(curve.data[0] != curve.data[4])
    }
}

