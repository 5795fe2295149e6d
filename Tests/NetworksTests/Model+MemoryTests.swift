import CMachine
import Testing
import TensorCore
@testable import Networks
import Trials

@Suite struct ModelMemoryTests {
    @Test("parameter bytes count values and gradients; the convolutions' buffers and Winograd's appear after a step")
    func accounts() throws {
        let model = try Model(ModelConfig(arch: .myrtle, width: 8, imageSize: 8), seed: 1)
        let count = model.parameters.reduce(0) { $0 + $1.value.count }
        #expect(model.memory.parameterBytes == 8 * count)
        let trainer = try Trainer(model: model, settings: TrainingSettings(epochs: 1, learningRate: 0.01))
        var rng = SeededRNG(seed: 2)
        _ = try trainer.step(Batch(x: Tensor.randomUniform([4, 3, 8, 8], 0, 1, rng: &rng), y: [0, 1, 2, 3]), epoch: 0, step: 0)
        let convolutions = model.network.layers.compactMap { $0 as? Conv2D }
        #expect(model.memory.convolutionWorkspaceBytes == convolutions.reduce(0) { $0 + $1.workspace.bytes })
        // Width 8 at 8×8: layer1 (8→16 at 8×8) and layer2 (16→32 at 4×4) are Winograd geometries wherever the
        // kernels run (AVX2 + FMA); the buffers are process-wide, so other tests may have grown them further.
        let winograd = fs_wino_lanes(8) > 0
        #expect(convolutions.contains { $0.lastPlan?.forward == .winograd } == winograd)
        #expect((model.memory.winogradBytes > 0) || !winograd)
    }
}
