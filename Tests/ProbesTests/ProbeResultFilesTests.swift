import Foundation
import Testing
import Datasets
import Networks
import TensorCore
@testable import Probes

@Suite struct ProbeResultFilesTests {
    @Test func writesNpyPerArrayAndJsonScalars() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("probe-files-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = try Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        let r = ProbeResult(scalars: ["a.b": 0.5, "bad": .nan], arrays: ["x.map@e3": t])
        try r.write(to: dir)
        let back = try NPY.decodeTensor(Data(contentsOf: dir.appendingPathComponent("x.map@e3.npy")))
        #expect(back == t)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("probes.json"))) as? [String: Any]
        #expect(json?["a.b"] as? Double == 0.5)
        #expect(json?["bad"] is NSNull)
    }

    @Test func commandLineParametersParse() throws {
        #expect(try ProbeResult.parameter("v=4") == ("v", .number(4)))
        #expect(try ProbeResult.parameter("radii=4,8") == ("radii", .list([.number(4), .number(8)])))
        #expect(try ProbeResult.parameter("smooth=false") == ("smooth", .bool(false)))
        #expect(throws: ProbeError.self) { try ProbeResult.parameter("=3") }
        #expect(throws: ProbeError.self) { try ProbeResult.parameter("v") }
    }

    /// Shared options: each probe gets its own parameters; one nobody takes is an error.
    @Test func severalProbesShareOptions() throws {
        let task = try TemplateTask()
        let r = try ProbeRegistry.run(["lfc_hfc", "filtered_accuracy"], model: task.model, data: ProbeData(test: task.set),
                                      options: ProbeOptions(params: ["radii": .number(2)]))
        #expect(r.arrays["lfc_hfc.radii"]?.data == [2] && r.arrays["filtered_accuracy.lowpass"] != nil)
        #expect(throws: ProbeError.self) {
            try ProbeRegistry.run(["lfc_hfc"], model: task.model, data: ProbeData(test: task.set), options: ProbeOptions(params: ["v": .number(2)]))
        }
    }

    /// A saved model and synthetic data shaped like it: the CLI's input path.
    @Test func inputsForASavedModel() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("probe-model-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try Model(ModelConfig(arch: .convactually, depth: 1, width: 2, classes: 3, channels: 3, imageSize: 8), seed: 1)
        try Checkpoint.save(model, to: dir)
        let loaded = try Checkpoint.load(from: dir)
        let imgs = randomImages(4, size: 8, seed: 2)
        try NPY.encode(imgs).write(to: dir.appendingPathComponent("x.npy"))
        let only = try ProbeInputs.load(model: loaded, images: dir.appendingPathComponent("x.npy").path, dataset: nil, dataDir: nil,
                                        imageSize: nil, testSize: nil, trainSize: nil, filter: .none, band: .mixed, seed: 0)
        #expect(only.images == imgs && only.test == nil)
        let synth = try ProbeInputs.load(model: loaded, images: nil, dataset: nil, dataDir: nil, imageSize: nil, testSize: 6,
                                         trainSize: 12, filter: .none, band: .low, seed: 0)
        #expect(synth.test?.images.shape == [6, 3, 8, 8] && synth.train?.count == 12 && synth.test?.classes == 3)
        #expect(throws: ProbeError.self) {
            try ProbeInputs.load(model: loaded, images: dir.appendingPathComponent("missing.npy").path, dataset: nil, dataDir: nil,
                                 imageSize: nil, testSize: nil, trainSize: nil, filter: .none, band: .mixed, seed: 0)
        }
    }
}
