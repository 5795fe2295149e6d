import Testing
import TensorCore
@testable import Networks
import TestSupport
import Trials

/// One convolution configuration: batch, channels, image size, kernel, stride, padding, bias.
struct ConvCase: CustomStringConvertible, Sendable {
    let n, c, o, h, w, k, stride, padding: Int
    let bias: Bool
    var description: String { "N\(n) C\(c)→O\(o) \(h)×\(w) k\(k) s\(stride) p\(padding) bias:\(bias)" }
}

@Suite struct Conv2DTests {
    static let forwardCases: [ConvCase] = [
        ConvCase(n: 2, c: 3, o: 4, h: 7, w: 5, k: 3, stride: 1, padding: 0, bias: true),
        ConvCase(n: 2, c: 3, o: 4, h: 7, w: 5, k: 3, stride: 1, padding: 1, bias: false),
        ConvCase(n: 1, c: 2, o: 3, h: 9, w: 7, k: 3, stride: 2, padding: 1, bias: true),
        ConvCase(n: 3, c: 1, o: 2, h: 6, w: 5, k: 3, stride: 2, padding: 0, bias: false),
        ConvCase(n: 2, c: 2, o: 3, h: 5, w: 5, k: 1, stride: 1, padding: 0, bias: true),
        ConvCase(n: 1, c: 2, o: 2, h: 8, w: 6, k: 5, stride: 2, padding: 2, bias: true),
        ConvCase(n: 2, c: 3, o: 5, h: 3, w: 3, k: 3, stride: 1, padding: 1, bias: true),
    ]

    static let gradientCases: [ConvCase] = [
        ConvCase(n: 2, c: 2, o: 3, h: 5, w: 4, k: 3, stride: 1, padding: 1, bias: true),
        ConvCase(n: 2, c: 2, o: 3, h: 5, w: 6, k: 3, stride: 1, padding: 0, bias: false),
        ConvCase(n: 2, c: 2, o: 2, h: 7, w: 5, k: 3, stride: 2, padding: 1, bias: true),
        ConvCase(n: 1, c: 3, o: 2, h: 6, w: 6, k: 3, stride: 2, padding: 0, bias: true),
    ]

    static func make(_ t: ConvCase, seed: UInt64 = 7) throws -> (Conv2D, Tensor) {
        var rng = SeededRNG(seed: seed)
        let layer = try Conv2D(inChannels: t.c, outChannels: t.o, kernel: t.k, stride: t.stride, padding: t.padding,
                               bias: t.bias, name: "conv", rng: &rng)
        // Non-zero bias even when the init would give small values, so a dropped bias shows.
        if let b = layer.bias { b.value = Tensor.randomNormal(b.value.shape, rng: &rng) }
        let x = Tensor.randomNormal([t.n, t.c, t.h, t.w], rng: &rng)
        return (layer, x)
    }

    @Test("forward matches the naive 7-loop convolution (every backend)", arguments: forwardCases, Conv2D.Backend.available)
    func forwardMatchesReference(_ t: ConvCase, _ backend: Conv2D.Backend) throws {
        let (layer, x) = try Self.make(t)
        layer.backend = backend
        let y = try layer.forward(x, mode: .train)
        let ref = try Conv2D.referenceForward(x, weight: layer.weight.value, bias: layer.bias?.value,
                                              stride: t.stride, padding: t.padding)
        let oh = (t.h + 2 * t.padding - t.k) / t.stride + 1, ow = (t.w + 2 * t.padding - t.k) / t.stride + 1
        #expect(y.shape == [t.n, t.o, oh, ow])
        #expect(ref.shape == y.shape)
        // Float32 sums of ≤ 50 terms of size ≲ 1: rounding ≲ 1e-5.
        expectClose(y.data, ref.data, .absolute(1e-4), "\(t)")
    }

    @Test("a hand-computed 1-channel convolution", arguments: [false, true])
    func handComputed(bias: Bool) throws {
        var rng = SeededRNG(seed: 1)
        let layer = try Conv2D(inChannels: 1, outChannels: 1, kernel: 2, stride: 1, padding: 0, bias: bias,
                               name: "c", rng: &rng)
        layer.weight.value = try Tensor(shape: [1, 1, 2, 2], data: [1, 2, 3, 4])
        layer.bias?.value = Tensor(repeating: 10, shape: [1])
        let x = try Tensor(shape: [1, 1, 2, 3], data: [1, 2, 3, 4, 5, 6])
        let y = try layer.forward(x, mode: .eval)
        // [1·1+2·2+3·4+4·5, 1·2+2·3+3·5+4·6] = [37, 47]
        let b: Float = bias ? 10 : 0
        #expect(y == (try Tensor(shape: [1, 1, 1, 2], data: [37 + b, 47 + b])))
    }

    @Test("backward (input, weight, bias) matches finite differences (every backend)",
          arguments: gradientCases, Conv2D.Backend.available)
    func backwardMatchesFiniteDifferences(_ t: ConvCase, _ backend: Conv2D.Backend) throws {
        let (layer, x) = try Self.make(t)
        layer.backend = backend
        let result = try checkGradients(layer: layer, input: x, maxEntries: 48)
        #expect(result.input.checked > 0)
        #expect(result.parameters.count == (t.bias ? 2 : 1))
        #expect(result.worst < 1e-2, "\(t): \(result)")
    }

    @Test("parameterGradients adds what backward adds, without an input gradient (every backend; small maps take the batch GEMM)",
          arguments: [ConvCase(n: 3, c: 2, o: 3, h: 6, w: 5, k: 3, stride: 2, padding: 1, bias: true),
                      ConvCase(n: 2, c: 4, o: 3, h: 8, w: 8, k: 3, stride: 1, padding: 1, bias: false),
                      ConvCase(n: 3, c: 5, o: 4, h: 2, w: 2, k: 3, stride: 1, padding: 1, bias: true)],
          Conv2D.Backend.available)
    func parameterGradientsOnly(_ t: ConvCase, _ backend: Conv2D.Backend) throws {
        let (layer, x) = try Self.make(t)
        layer.backend = backend
        let y = try layer.forward(x, mode: .train)
        var rng = SeededRNG(seed: 5)
        let dy = Tensor.randomNormal(y.shape, rng: &rng)
        _ = try layer.backward(dy, parameterGradients: true)
        let expected = layer.parameters.map(\.grad)
        // Start from a non-zero gradient: the contract is to add.
        let offsets = layer.parameters.map { Tensor.randomNormal($0.grad.shape, rng: &rng) }
        for (p, o) in zip(layer.parameters, offsets) { p.grad = o }
        try layer.parameterGradients(dy)
        for ((p, o), e) in zip(zip(layer.parameters, offsets), expected) {
            expectClose(zip(p.grad.data, o.data).map { $0 - $1 }, e.data, .relative(1e-4, floor: 1), "\(t) \(p.name) (added)")
        }
    }

    @Test("two backward passes agree; parameterGradients=false leaves grads alone (every backend)",
          arguments: Conv2D.Backend.available)
    func backwardContract(_ backend: Conv2D.Backend) throws {
        let (layer, x) = try Self.make(ConvCase(n: 3, c: 2, o: 3, h: 6, w: 5, k: 3, stride: 2, padding: 1, bias: true))
        layer.backend = backend
        try checkBackwardContract(layer: layer, input: x)
    }

    @Test("shape errors name the layer")
    func shapeErrors() throws {
        var rng = SeededRNG(seed: 3)
        let layer = try Conv2D(inChannels: 3, outChannels: 4, kernel: 3, name: "features.0", rng: &rng)
        do {
            _ = try layer.forward(Tensor(zeros: [2, 2, 8, 8]), mode: .train)
            Issue.record("wrong channel count must throw")
        } catch let e as TensorError {
            #expect(e.code == .shapeMismatch)
            #expect(e.message.contains("features.0"))
        }
        #expect(throws: TensorError.self) { _ = try layer.forward(Tensor(zeros: [1, 3, 2, 2]), mode: .train) }
        #expect(throws: TensorError.self) { _ = try layer.forward(Tensor(zeros: [3, 8, 8]), mode: .train) }
        #expect(throws: TensorError.self) { _ = try layer.backward(Tensor(zeros: [2, 4, 6, 6]), parameterGradients: true) }
        _ = try layer.forward(Tensor(zeros: [2, 3, 8, 8]), mode: .train)
        #expect(throws: TensorError.self) { _ = try layer.backward(Tensor(zeros: [2, 4, 7, 6]), parameterGradients: true) }
        #expect(throws: TensorError.self) {
            _ = try Conv2D(inChannels: 3, outChannels: 4, kernel: 3, stride: 0, name: "bad", rng: &rng)
        }
    }

    @Test("parameter names, shapes and decay flags")
    func parameterLayout() throws {
        var rng = SeededRNG(seed: 4)
        let layer = try Conv2D(inChannels: 3, outChannels: 8, kernel: 3, padding: 1, name: "features.0", rng: &rng)
        #expect(layer.parameters.map(\.name) == ["features.0.weight", "features.0.bias"])
        #expect(layer.weight.value.shape == [8, 3, 3, 3])
        #expect(layer.weight.decays && layer.bias?.decays == false)
        let noBias = try Conv2D(inChannels: 3, outChannels: 8, kernel: 3, bias: false, name: "c", rng: &rng)
        #expect(noBias.parameters.count == 1)
    }

    @Test("init statistics follow the formulas")
    func initStatistics() throws {
        var rng = SeededRNG(seed: 5)
        // kaimingNormalFanOut: N(0, 2/(k²·out)), bias zero.
        let vgg = try Conv2D(inChannels: 32, outChannels: 64, kernel: 3, padding: 1,
                             initialization: .kaimingNormalFanOut, name: "v", rng: &rng)
        let expectedVar = 2.0 / (9 * 64)
        let (m1, v1) = meanAndVariance(vgg.weight.value.data)  // 18432 draws
        // Standard error of the mean is σ/√n ≈ 4e-4; of the variance ≈ var·√(2/n) ≈ 1%.
        #expect(abs(m1) < 2e-3)
        expectClose(v1, expectedVar, .relative(0.05))
        #expect(vgg.bias?.value.data.allSatisfy { $0 == 0 } == true)

        // pytorchDefault: U(−1/√fan_in, 1/√fan_in) for weight and bias, variance bound²/3.
        let pt = try Conv2D(inChannels: 32, outChannels: 64, kernel: 3, name: "p", rng: &rng)
        let bound = 1 / Float(32 * 9).squareRoot()
        let (m2, v2) = meanAndVariance(pt.weight.value.data)
        #expect(pt.weight.value.data.allSatisfy { abs($0) <= bound })
        #expect(abs(m2) < 0.02 * Double(bound))
        expectClose(v2, Double(bound * bound) / 3, .relative(0.05))
        let biasValues = pt.bias?.value.data ?? []
        #expect(biasValues.allSatisfy { abs($0) <= bound } && biasValues.contains { $0 != 0 })
    }

    @Test("the same seed gives the same initial weights")
    func seededInit() throws {
        var a = SeededRNG(seed: 9), b = SeededRNG(seed: 9)
        let l1 = try Conv2D(inChannels: 2, outChannels: 3, kernel: 3, name: "a", rng: &a)
        let l2 = try Conv2D(inChannels: 2, outChannels: 3, kernel: 3, name: "b", rng: &b)
        #expect(l1.weight.value == l2.weight.value)
        #expect(l1.bias?.value == l2.bias?.value)
    }
}
