import Foundation
import Networks
import TensorCore
import Testing
import TestSupport
import Trials

/// `examples/load_checkpoint.py`, the PyTorch lines the README shows, reads a checkpoint written as the store
/// writes it (weights + model description in the metadata) and computes the same logits as our model.
@Suite struct LoadCheckpointExampleTests {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/load_checkpoint.py").path
    static let hasTorchAndSafetensors: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [ExampleRunnersTests.python, "-c", "import torch, numpy, safetensors"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    @Test("PyTorch loads model.safetensors from its metadata alone and computes our logits",
          .enabled(if: LoadCheckpointExampleTests.hasTorchAndSafetensors,
                   "no python with torch and safetensors (run bench/setup-torch-venv.sh)"))
    func pytorchComputesTheSameLogits() throws {
        let config = ModelConfig(arch: .convactually, depth: 3, width: 4, classes: 10, channels: 3, imageSize: 8,
                                 normalization: .init(mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26]))
        let model = try Model(config, seed: 7)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fsweep-pt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("model.safetensors"), xs = dir.appendingPathComponent("x.npy")
        let ys = dir.appendingPathComponent("y.npy")
        // The same bytes the store writes for a trial: the arrays and metadata a worker returns.
        let arrays = Checkpoint.tensors(of: model).map { NamedArray(name: $0.key, shape: $0.value.shape, data: $0.value.data) }
        try SafetensorsFile.encode(arrays, metadata: config.safetensorsMetadata).write(to: file)
        var rng = SeededRNG(seed: 1)
        let x = Tensor.randomUniform([5, 3, 8, 8], 0, 1, rng: &rng)
        try NPY.encode(x).write(to: xs)

        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [ExampleRunnersTests.python, Self.example, file.path, xs.path, ys.path]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let logits = try NPY.decodeTensor(Data(contentsOf: ys))
        let expected = try model.forward(x, mode: .eval)
        #expect(logits.shape == expected.shape)
        expectClose(logits.data, expected.data, .relativeToLargest(1e-4), "PyTorch vs fsweep logits")
    }
}
