import Testing
import TensorCore
@testable import Networks
import TestSupport
import Trials

/// One full-image circular convolution configuration.
struct CircularCase: CustomStringConvertible, Sendable {
    let n, c, o, h, w: Int
    let bias: Bool
    var description: String { "N\(n) C\(c)→O\(o) \(h)×\(w) bias:\(bias)" }
}

@Suite struct CircularConv2DTests {
    static let forwardCases: [CircularCase] = [
        CircularCase(n: 1, c: 1, o: 1, h: 4, w: 4, bias: false),
        CircularCase(n: 2, c: 2, o: 3, h: 5, w: 7, bias: true),
        CircularCase(n: 3, c: 3, o: 2, h: 6, w: 4, bias: true),
        CircularCase(n: 2, c: 2, o: 2, h: 7, w: 6, bias: false),
        CircularCase(n: 2, c: 1, o: 3, h: 1, w: 5, bias: true),
        CircularCase(n: 1, c: 3, o: 4, h: 8, w: 8, bias: true),
        // More images (N·C, N·O) than one conversion block of 32, with a partial last block.
        CircularCase(n: 9, c: 4, o: 5, h: 4, w: 6, bias: true),
    ]

    static let gradientCases: [CircularCase] = [
        CircularCase(n: 2, c: 2, o: 3, h: 5, w: 7, bias: true),
        CircularCase(n: 2, c: 3, o: 2, h: 4, w: 6, bias: true),
        CircularCase(n: 3, c: 2, o: 2, h: 3, w: 3, bias: false),
        CircularCase(n: 6, c: 6, o: 7, h: 3, w: 4, bias: true),  // N·C, N·O, O·C > one conversion block (32)
    ]

    static func make(_ t: CircularCase, seed: UInt64 = 11) throws -> (CircularConv2D, Tensor) {
        var rng = SeededRNG(seed: seed)
        let layer = try CircularConv2D(inChannels: t.c, outChannels: t.o, height: t.h, width: t.w, bias: t.bias,
                                       name: "circ", rng: &rng)
        // Order-1 weights and bias, so every tap matters at the test tolerance.
        layer.weight.value = Tensor.randomNormal(layer.weight.value.shape, std: 0.5, rng: &rng)
        if let b = layer.bias { b.value = Tensor.randomNormal(b.value.shape, rng: &rng) }
        let x = Tensor.randomNormal([t.n, t.c, t.h, t.w], rng: &rng)
        return (layer, x)
    }

    @Test("Fourier forward matches the direct circular loop", arguments: forwardCases)
    func forwardMatchesReference(_ t: CircularCase) throws {
        let (layer, x) = try Self.make(t)
        let y = try layer.forward(x, mode: .train)
        let ref = try CircularConv2D.referenceForward(x, weight: layer.weight.value, bias: layer.bias?.value)
        #expect(y.shape == [t.n, t.o, t.h, t.w])
        // Sums of C·H·W ≤ 192 terms of size ≲ 0.5 through a Float32 FFT: error ≲ 1e-5·√terms.
        expectClose(y.data, ref.data, .absolute(5e-4), "\(t)")
    }

    @Test("a centred delta kernel is the identity and an off-centre one a circular shift")
    func deltaKernels() throws {
        var rng = SeededRNG(seed: 2)
        for (h, w) in [(5, 7), (4, 6)] {
            let layer = try CircularConv2D(inChannels: 1, outChannels: 2, height: h, width: w, bias: false,
                                           name: "d", rng: &rng)
            var wt = Tensor(zeros: [2, 1, h, w])
            wt[0, 0, h / 2, w / 2] = 1           // identity (PyTorch's "same" centre tap)
            wt[1, 0, h / 2 + 1, w / 2 - 1] = 1   // y[i, j] = x[i+1, j−1] (circularly)
            layer.weight.value = wt
            let x = Tensor.randomNormal([1, 1, h, w], rng: &rng)
            let y = try layer.forward(x, mode: .eval)
            for i in 0..<h {
                for j in 0..<w {
                    expectClose(y[0, 0, i, j], x[0, 0, i, j], .absolute(1e-5))
                    expectClose(y[0, 1, i, j], x[0, 0, (i + 1) % h, (j - 1 + w) % w], .absolute(1e-5))
                }
            }
        }
    }

    @Test("backward (input, weight, bias) matches finite differences", arguments: gradientCases)
    func backwardMatchesFiniteDifferences(_ t: CircularCase) throws {
        let (layer, x) = try Self.make(t)
        let result = try checkGradients(layer: layer, input: x, maxEntries: 48)
        #expect(result.input.checked > 0)
        #expect(result.parameters.count == (t.bias ? 2 : 1))
        #expect(result.worst < 1e-2, "\(t): \(result)")
    }

    @Test("two backward passes agree; parameterGradients=false leaves grads alone")
    func backwardContract() throws {
        let (layer, x) = try Self.make(CircularCase(n: 2, c: 2, o: 3, h: 5, w: 6, bias: true))
        try checkBackwardContract(layer: layer, input: x)
    }

    @Test("backward uses the spectra cached by its own forward")
    func backwardAfterWeightChange() throws {
        let (layer, x) = try Self.make(CircularCase(n: 2, c: 2, o: 2, h: 4, w: 5, bias: true))
        var rng = SeededRNG(seed: 3)
        let y = try layer.forward(x, mode: .train)
        let dy = Tensor.randomNormal(y.shape, rng: &rng)
        let before = try layer.backward(dy, parameterGradients: false)
        layer.weight.value.data[0] += 1  // an optimizer step between forward and backward
        let after = try layer.backward(dy, parameterGradients: false)
        #expect(before == after)
    }

    @Test("a weight changed in place between forwards is picked up (no stale weight spectrum)")
    func weightUpdateBetweenForwards() throws {
        let (layer, x) = try Self.make(CircularCase(n: 2, c: 2, o: 2, h: 5, w: 4, bias: true))
        let first = try layer.forward(x, mode: .eval)
        #expect(try layer.forward(x, mode: .eval) == first)
        layer.weight.value.data[3] -= 0.75  // in place, like an optimizer step
        layer.weight.value.data.withUnsafeMutableBufferPointer { $0[7] += 0.5 }
        let second = try layer.forward(x, mode: .eval)
        let ref = try CircularConv2D.referenceForward(x, weight: layer.weight.value, bias: layer.bias?.value)
        expectClose(second.data, ref.data, .absolute(5e-4))
        #expect(maxAbsDiff(second, first) > 0.1)
    }

    @Test("shape errors name the layer")
    func shapeErrors() throws {
        var rng = SeededRNG(seed: 3)
        let layer = try CircularConv2D(inChannels: 3, outChannels: 4, height: 8, width: 8, name: "conv1", rng: &rng)
        do {
            _ = try layer.forward(Tensor(zeros: [2, 3, 8, 7]), mode: .train)
            Issue.record("wrong image size must throw")
        } catch let e as TensorError {
            #expect(e.code == .shapeMismatch)
            #expect(e.message.contains("conv1"))
        }
        #expect(throws: TensorError.self) { _ = try layer.backward(Tensor(zeros: [2, 4, 8, 8]), parameterGradients: true) }
        _ = try layer.forward(Tensor(zeros: [2, 3, 8, 8]), mode: .train)
        #expect(throws: TensorError.self) { _ = try layer.backward(Tensor(zeros: [3, 4, 8, 8]), parameterGradients: true) }
        #expect(throws: TensorError.self) {
            _ = try CircularConv2D(inChannels: 0, outChannels: 4, height: 8, width: 8, name: "bad", rng: &rng)
        }
    }

    @Test("parameters and PyTorch-default init with fan_in = C·H·W")
    func initStatistics() throws {
        var rng = SeededRNG(seed: 6)
        let layer = try CircularConv2D(inChannels: 8, outChannels: 16, height: 10, width: 12, name: "conv1", rng: &rng)
        #expect(layer.parameters.map(\.name) == ["conv1.weight", "conv1.bias"])
        #expect(layer.weight.value.shape == [16, 8, 10, 12])
        #expect(layer.weight.decays && layer.bias?.decays == false)
        let bound = 1 / Float(8 * 10 * 12).squareRoot()
        let (m, v) = meanAndVariance(layer.weight.value.data)  // 15360 draws
        #expect(layer.weight.value.data.allSatisfy { abs($0) <= bound })
        #expect(abs(m) < 0.02 * Double(bound))
        // Standard error of the variance of a uniform is ≈ var·√(0.8/n) ≈ 0.7%.
        expectClose(v, Double(bound * bound) / 3, .relative(0.05))
        let b = layer.bias?.value.data ?? []
        #expect(b.count == 16 && b.allSatisfy { abs($0) <= bound } && b.contains { $0 != 0 })
    }
}
