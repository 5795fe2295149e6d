import Testing
import TensorCore
@testable import Networks
import TestSupport
import Trials

/// A chain of full-image circular convolutions: channel counts `[C_0, C_1, …, C_L]` on `h×w` images.
struct StackCase: CustomStringConvertible, Sendable {
    let n: Int
    let channels: [Int]
    let h, w: Int
    /// Which layers have a bias.
    let bias: [Bool]
    var description: String { "N\(n) \(channels.map(String.init).joined(separator: "→")) \(h)×\(w) bias:\(bias)" }
}

@Suite struct CircularConvStackTests {
    static let cases: [StackCase] = [
        StackCase(n: 2, channels: [2, 3, 2, 3], h: 5, w: 6, bias: [true, true, true]),
        StackCase(n: 3, channels: [3, 2, 4], h: 4, w: 4, bias: [true, false]),
        StackCase(n: 1, channels: [1, 2, 2, 1], h: 3, w: 7, bias: [false, true, true]),
        StackCase(n: 9, channels: [4, 5, 6], h: 4, w: 5, bias: [true, true]),  // > one conversion block (32 images)
    ]

    /// The layers of a case with order-1 weights and biases (every tap matters at the test tolerance).
    static func layers(_ t: StackCase, seed: UInt64 = 11) throws -> [CircularConv2D] {
        var rng = SeededRNG(seed: seed)
        return try (0..<t.bias.count).map { l in
            let conv = try CircularConv2D(inChannels: t.channels[l], outChannels: t.channels[l + 1], height: t.h, width: t.w,
                                          bias: t.bias[l], name: "convs.\(l)", rng: &rng)
            conv.weight.value = Tensor.randomNormal(conv.weight.value.shape, std: 0.4, rng: &rng)
            if let b = conv.bias { b.value = Tensor.randomNormal(b.value.shape, rng: &rng) }
            return conv
        }
    }

    /// Same output, input gradient and every parameter gradient as the separate layers, each with its own
    /// FFT round trip (twice: the second pass reuses buffers and cached weight spectra).
    @Test(arguments: cases) func matchesTheSeparateLayers(_ t: StackCase) throws {
        let stack = try CircularConvStack(Self.layers(t))
        let separate = Sequential(try Self.layers(t))
        #expect(stack.parameters.map(\.name) == separate.parameters.map(\.name))
        var rng = SeededRNG(seed: 4)
        for round in 0..<2 {
            let x = Tensor.randomNormal([t.n, t.channels[0], t.h, t.w], rng: &rng)
            let y = try stack.forward(x, mode: .train), ref = try separate.forward(x, mode: .train)
            expectClose(y.data, ref.data, .relativeToLargest(1e-4), "\(t) round \(round): output")
            let dy = Tensor.randomNormal(ref.shape, rng: &rng)
            for p in stack.parameters + separate.parameters { p.grad = Tensor(zeros: p.value.shape) }
            let dx = try stack.backward(dy, parameterGradients: true)
            let dxRef = try separate.backward(dy, parameterGradients: true)
            expectClose(dx.data, dxRef.data, .relativeToLargest(1e-4), "\(t) round \(round): input gradient")
            for (p, q) in zip(stack.parameters, separate.parameters) {
                expectClose(p.grad.data, q.grad.data, .relativeToLargest(1e-4), "\(t) round \(round): \(p.name)")
            }
        }
    }

    @Test(arguments: cases) func backwardMatchesFiniteDifferences(_ t: StackCase) throws {
        let stack = try CircularConvStack(Self.layers(t))
        var rng = SeededRNG(seed: 7)
        let x = Tensor.randomNormal([t.n, t.channels[0], t.h, t.w], rng: &rng)
        let result = try checkGradients(layer: stack, input: x, maxEntries: 40)
        #expect(result.parameters.count == t.bias.count + t.bias.filter { $0 }.count)
        #expect(result.worst < 1e-2, "\(t): \(result)")
    }

    @Test func backwardContractAndWeightUpdates() throws {
        let t = Self.cases[0]
        let stack = try CircularConvStack(Self.layers(t))
        var rng = SeededRNG(seed: 5)
        let x = Tensor.randomNormal([t.n, t.channels[0], t.h, t.w], rng: &rng)
        try checkBackwardContract(layer: stack, input: x)
        // A weight changed in place between forwards is picked up (no stale weight spectrum).
        let first = try stack.forward(x, mode: .eval)
        stack.convs[1].weight.value.data[2] += 0.5
        let second = try stack.forward(x, mode: .eval), ref = try Sequential(stack.convs).forward(x, mode: .eval)
        expectClose(second.data, ref.data, .relativeToLargest(1e-4))
        #expect(maxAbsDiff(second, first) > 1e-2)
    }

    @Test func mismatchedLayersAndShapesAreErrors() throws {
        var rng = SeededRNG(seed: 1)
        let a = try CircularConv2D(inChannels: 2, outChannels: 3, height: 4, width: 4, name: "convs.0", rng: &rng)
        let b = try CircularConv2D(inChannels: 2, outChannels: 3, height: 4, width: 4, name: "convs.1", rng: &rng)
        let c = try CircularConv2D(inChannels: 3, outChannels: 3, height: 5, width: 4, name: "convs.1", rng: &rng)
        #expect(throws: TensorError.self) { try CircularConvStack([a, b]) }
        #expect(throws: TensorError.self) { try CircularConvStack([a, c]) }
        #expect(throws: TensorError.self) { try CircularConvStack([]) }
        let stack = try CircularConvStack([a])
        #expect(throws: TensorError.self) { _ = try stack.backward(Tensor(zeros: [1, 3, 4, 4]), parameterGradients: false) }
        #expect(throws: TensorError.self) { _ = try stack.forward(Tensor(zeros: [1, 3, 4, 4]), mode: .eval) }
        _ = try stack.forward(Tensor(zeros: [2, 2, 4, 4]), mode: .eval)
        #expect(throws: TensorError.self) { _ = try stack.backward(Tensor(zeros: [1, 3, 4, 4]), parameterGradients: false) }
    }

    /// A linear ConvActually chains its convolutions; a ReLU one does not. Parameter names and initial values
    /// do not depend on it, so checkpoints are interchangeable.
    @Test func linearConvActuallyUsesTheStackWithTheSameParameters() throws {
        let linear = try Model(ModelConfig(arch: .convactually, depth: 4, width: 3, activation: .linear, imageSize: 6), seed: 3)
        let relu = try Model(ModelConfig(arch: .convactually, depth: 4, width: 3, activation: .relu, imageSize: 6), seed: 3)
        #expect(linear.network.layers.contains { $0 is CircularConvStack })
        #expect(!relu.network.layers.contains { $0 is CircularConvStack })
        #expect(linear.parameters.map(\.name) == ["convs.0.weight", "convs.0.bias", "convs.1.weight", "convs.1.bias",
                                                   "convs.2.weight", "convs.2.bias", "fc.weight", "fc.bias"])
        #expect(linear.parameters.map(\.name) == relu.parameters.map(\.name))
        #expect(zip(linear.parameters, relu.parameters).allSatisfy { $0.value == $1.value })
        #expect(linear.isAffine && !relu.isAffine)
    }
}
