import Testing
import TensorCore
@testable import Networks
import TestSupport
import Trials

@Suite struct LinearTests {
    static func make(n: Int, inFeatures: Int, outFeatures: Int, bias: Bool, seed: UInt64 = 13) throws -> (Linear, Tensor) {
        var rng = SeededRNG(seed: seed)
        let layer = try Linear(inFeatures: inFeatures, outFeatures: outFeatures, bias: bias, name: "fc", rng: &rng)
        if let b = layer.bias { b.value = Tensor.randomNormal(b.value.shape, rng: &rng) }
        let x = Tensor.randomNormal([n, inFeatures], rng: &rng)
        return (layer, x)
    }

    /// `Wᵀ` of a `[out, in]` weight, built by hand so the oracle does not share code with the layer.
    static func transposed(_ w: Tensor) -> Tensor {
        let o = w.shape[0], i = w.shape[1]
        var t = Tensor(zeros: [i, o])
        for a in 0..<o { for b in 0..<i { t.data[b * o + a] = w.data[a * i + b] } }
        return t
    }

    @Test("forward matches Reference.matmul plus bias", arguments: [(3, 7, 5, true), (1, 4, 9, false), (6, 10, 3, true)])
    func forwardMatchesReference(n: Int, inFeatures: Int, outFeatures: Int, bias: Bool) throws {
        let (layer, x) = try Self.make(n: n, inFeatures: inFeatures, outFeatures: outFeatures, bias: bias)
        let y = try layer.forward(x, mode: .train)
        var ref = Reference.matmul(x, Self.transposed(layer.weight.value))
        if let b = layer.bias?.value {
            for i in 0..<n { for j in 0..<outFeatures { ref.data[i * outFeatures + j] += b.data[j] } }
        }
        #expect(y.shape == [n, outFeatures])
        expectClose(y.data, ref.data, .absolute(1e-5))
    }

    @Test("[N, C, H, W] input is flattened; dL/dx keeps the input shape")
    func flattensInput() throws {
        var rng = SeededRNG(seed: 21)
        let layer = try Linear(inFeatures: 2 * 3 * 2, outFeatures: 4, name: "fc", rng: &rng)
        let x4 = Tensor.randomNormal([3, 2, 3, 2], rng: &rng)
        let y4 = try layer.forward(x4, mode: .eval)
        let y2 = try layer.forward(x4.reshaped([3, 12]), mode: .eval)
        #expect(y4 == y2 && y4.shape == [3, 4])
        _ = try layer.forward(x4, mode: .eval)
        let dx = try layer.backward(Tensor.randomNormal([3, 4], rng: &rng), parameterGradients: false)
        #expect(dx.shape == [3, 2, 3, 2])
        let result = try checkGradients(layer: layer, input: x4)
        #expect(result.worst < 1e-2, "\(result)")
    }

    @Test("backward (input, weight, bias) matches finite differences", arguments: [true, false])
    func backwardMatchesFiniteDifferences(bias: Bool) throws {
        let (layer, x) = try Self.make(n: 4, inFeatures: 6, outFeatures: 5, bias: bias)
        let result = try checkGradients(layer: layer, input: x)
        #expect(result.input.checked == 24)
        #expect(result.parameters["fc.weight"]?.checked == 30)
        #expect(result.parameters.count == (bias ? 2 : 1))
        #expect(result.worst < 1e-2, "\(result)")
    }

    @Test("two backward passes agree; parameterGradients=false leaves grads alone")
    func backwardContract() throws {
        let (layer, x) = try Self.make(n: 3, inFeatures: 5, outFeatures: 4, bias: true)
        try checkBackwardContract(layer: layer, input: x)
    }

    @Test("shape errors name the layer")
    func shapeErrors() throws {
        var rng = SeededRNG(seed: 3)
        let layer = try Linear(inFeatures: 8, outFeatures: 10, name: "classifier", rng: &rng)
        do {
            _ = try layer.forward(Tensor(zeros: [2, 7]), mode: .train)
            Issue.record("wrong feature count must throw")
        } catch let e as TensorError {
            #expect(e.code == .shapeMismatch)
            #expect(e.message.contains("classifier"))
        }
        #expect(throws: TensorError.self) { _ = try layer.forward(Tensor(zeros: [8]), mode: .train) }
        #expect(throws: TensorError.self) { _ = try layer.backward(Tensor(zeros: [2, 10]), parameterGradients: true) }
        _ = try layer.forward(Tensor(zeros: [2, 8]), mode: .train)
        #expect(throws: TensorError.self) { _ = try layer.backward(Tensor(zeros: [2, 9]), parameterGradients: true) }
        #expect(throws: TensorError.self) { _ = try Linear(inFeatures: 0, outFeatures: 3, name: "bad", rng: &rng) }
    }

    @Test("init statistics follow the formulas")
    func initStatistics() throws {
        var rng = SeededRNG(seed: 8)
        let pt = try Linear(inFeatures: 256, outFeatures: 64, name: "fc", rng: &rng)
        #expect(pt.parameters.map(\.name) == ["fc.weight", "fc.bias"])
        #expect(pt.weight.value.shape == [64, 256])
        let bound = 1 / Float(256).squareRoot()
        let (m, v) = meanAndVariance(pt.weight.value.data)  // 16384 draws
        #expect(pt.weight.value.data.allSatisfy { abs($0) <= bound })
        #expect(abs(m) < 0.02 * Double(bound))
        expectClose(v, Double(bound * bound) / 3, .relative(0.05))

        let kn = try Linear(inFeatures: 256, outFeatures: 128, initialization: .kaimingNormalFanOut, name: "k", rng: &rng)
        let (m2, v2) = meanAndVariance(kn.weight.value.data)  // 32768 draws, N(0, 2/out)
        #expect(abs(m2) < 0.02 * (2.0 / 128).squareRoot())
        expectClose(v2, 2.0 / 128, .relative(0.05))
        #expect(kn.bias?.value.data.allSatisfy { $0 == 0 } == true)
    }
}
