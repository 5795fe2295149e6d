import Testing
import TensorCore
@testable import Networks
import TestSupport
import Trials

@Suite struct ModelTests {
    static let tiny: [ModelConfig] = [
        ModelConfig(arch: .convactually, depth: 1, width: 3, classes: 4, imageSize: 6),
        ModelConfig(arch: .convactually, depth: 3, width: 3, activation: .linear, classes: 4, imageSize: 6),
        ModelConfig(arch: .convactually, depth: 2, width: 3, classes: 4, imageSize: 6,
                    normalization: .init(mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3])),
        ModelConfig(arch: .myrtle, width: 2, classes: 4, imageSize: 8),
        ModelConfig(arch: .vgg11, width: 2, batchNorm: true, classes: 4, imageSize: 8),
    ]

    @Test(arguments: tiny)
    func wholeModelInputGradientMatchesFiniteDifferences(config: ModelConfig) throws {
        let model = try Model(config, seed: 3)
        var rng = SeededRNG(seed: 9)
        let x = Tensor.randomUniform([2, 3, config.imageSize, config.imageSize], 0, 1, rng: &rng)
        // Eval mode: deterministic (no dropout), BN uses running stats; the probes differentiate exactly this.
        // eps 1e-3: a full-image convolution moves every pre-activation, so a larger step is likely to
        // cross a ReLU kink somewhere; logits are O(1), so Float32 rounding stays ≈1e-4 after dividing by 2·eps.
        let check = try checkGradients(layer: model, input: x, mode: .eval, eps: 1e-3, maxEntries: 24, seed: 9)
        #expect(try model.forward(x, mode: .eval).shape == [2, 4])
        let worst = check.input.maxScaled  // parameter gradients are checked layer by layer
        #expect(worst < 1e-2, "\(config.arch): \(check)")
    }

    /// Training skips the images' gradient (and the parameter-free layers below the first trainable
    /// one); the parameter gradients must be exactly those of the full backward pass.
    @Test(arguments: tiny)
    func parameterGradientsEqualTheFullBackward(config: ModelConfig) throws {
        let model = try Model(config, seed: 3)
        var rng = SeededRNG(seed: 4)
        let x = Tensor.randomUniform([3, 3, config.imageSize, config.imageSize], 0, 1, rng: &rng)
        let y = try model.forward(x, mode: .train)
        let dy = Tensor.randomNormal(y.shape, rng: &rng)
        _ = try model.backward(dy, parameterGradients: true)
        let expected = model.parameters.map(\.grad)
        for p in model.parameters { p.grad = Tensor(zeros: p.grad.shape) }
        try model.parameterGradients(dy)
        for (p, e) in zip(model.parameters, expected) {
            #expect(e.data.contains { $0 != 0 }, "\(p.name) has no gradient to compare")
            expectClose(p.grad.data, e.data, .relative(1e-4, floor: 1), "\(config.arch) \(p.name)")
        }
    }

    @Test func parameterNamesFollowPyTorchModulePaths() throws {
        let vgg = try Model(ModelConfig(arch: .vgg11, width: 4, batchNorm: true, imageSize: 32), seed: 0)
        let names = (vgg.parameters + vgg.buffers).map(\.name)
        #expect(names.contains("features.0.weight") && names.contains("features.1.running_var"))
        #expect(names.contains("classifier.6.bias"))
        #expect(vgg.parameters.filter { $0.name.hasSuffix("bias") }.allSatisfy { !$0.decays })
        let ca = try Model(ModelConfig(arch: .convactually, depth: 4, width: 8, imageSize: 8), seed: 0)
        #expect(ca.parameters.map(\.name) == ["convs.0.weight", "convs.0.bias", "convs.1.weight", "convs.1.bias",
                                               "convs.2.weight", "convs.2.bias", "fc.weight", "fc.bias"])
        #expect(ca.parameters[0].value.shape == [8, 3, 8, 8])
    }

    @Test func invalidConfigsAreClearErrors() {
        #expect(throws: TensorError.self) { try Model(ModelConfig(arch: .convactually, depth: 0), seed: 0) }
        #expect(throws: TensorError.self) { try Model(ModelConfig(arch: .myrtle, imageSize: 4), seed: 0) }
        #expect(throws: TensorError.self) {
            try Model(ModelConfig(arch: .myrtle, normalization: .init(mean: [0], std: [1])), seed: 0)
        }
    }
}

extension ModelConfig: CustomTestStringConvertible {
    public var testDescription: String { "\(arch.rawValue)(depth \(depth), width \(width), \(activation.rawValue), bn \(batchNorm))" }
}
