import Foundation
import Testing
import TensorCore
@testable import Networks
import Trials

/// A checkpoint file alone rebuilds its model: the metadata round trip is exact, and the rebuilt model computes
/// the same function as the original on the same inputs.
@Suite struct ModelConfigMetadataTests {
    static let configs: [ModelConfig] = [
        ModelConfig(arch: .convactually, depth: 3, width: 4, classes: 5, channels: 3, imageSize: 8,
                    normalization: .init(mean: [0.1, 0.4999937, 1.0 / 3], std: [0.16825682, 0.25, 1e-3])),
        ModelConfig(arch: .convactually, depth: 3, width: 2, activation: .linear, classes: 3, channels: 1, imageSize: 6),
        ModelConfig(arch: .myrtle, width: 2, batchNorm: true, classes: 4, channels: 3, imageSize: 8,
                    normalization: .init(mean: [0.5, 0.5, 0.5], std: [0.2, 0.3, 0.4])),
        ModelConfig(arch: .vgg11, width: 2, batchNorm: false, classes: 10, channels: 3, imageSize: 8),
    ]

    @Test(arguments: configs)
    func metadataRoundTripIsExact(_ config: ModelConfig) throws {
        let meta = config.safetensorsMetadata
        #expect(try ModelConfig(safetensorsMetadata: meta) == config)
        #expect(Set(meta.keys).isSubset(of: Set(ModelConfig.metadataKeys)))
        #expect(meta["arch"] == config.arch.rawValue && meta["image_size"] == String(config.imageSize))
    }

    @Test(arguments: configs)
    func theFileAloneRebuildsTheSameFunction(_ config: ModelConfig) throws {
        let model = try Model(config, seed: 11)
        // Non-default buffers (BatchNorm running statistics) must travel too.
        model.buffers.forEach { $0.value.data = $0.value.data.enumerated().map { $1 + 0.01 * Float($0 % 7) } }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fsweep-meta-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Checkpoint.encode(model).write(to: url)
        let rebuilt = try Checkpoint.load(file: url)
        #expect(rebuilt.config == config)
        var rng = SeededRNG(seed: 3)
        let x = Tensor.randomUniform([4, config.channels, config.imageSize, config.imageSize], 0, 1, rng: &rng)
        let a = try model.forward(x, mode: .eval), b = try rebuilt.forward(x, mode: .eval)
        #expect(a.shape == b.shape)
        #expect(a.data == b.data, "same weights, same inputs: bit-identical logits")
    }

    @Test func aModelDirectoryWithoutModelJSONLoadsFromTheMetadata() throws {
        let model = try Model(Self.configs[0], seed: 1)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fsweep-meta-dir-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Checkpoint.save(model, to: dir)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("model.json"))
        #expect(try Checkpoint.load(from: dir).config == model.config)
    }

    @Test func badMetadataNamesTheFileAndTheKey() throws {
        var meta = Self.configs[0].safetensorsMetadata
        meta["depth"] = "three"
        let e1 = #expect(throws: TensorError.self) { try ModelConfig(safetensorsMetadata: meta, name: "t/model.safetensors") }
        #expect(e1?.message.contains("t/model.safetensors") == true && e1?.message.contains("depth") == true)
        meta = Self.configs[0].safetensorsMetadata
        meta["input_std"] = nil
        let e2 = #expect(throws: TensorError.self) { try ModelConfig(safetensorsMetadata: meta) }
        #expect(e2?.message.contains("input_std") == true)
        // A checkpoint from `Safetensors.encode` without a description cannot rebuild a model.
        let bare = Safetensors.encode(["fc.weight": try Tensor(shape: [1], data: [1])])
        let e3 = #expect(throws: TensorError.self) { try ModelConfig(safetensorsMetadata: try Safetensors.decode(bare).metadata) }
        #expect(e3?.message.contains("arch") == true)
    }
}
