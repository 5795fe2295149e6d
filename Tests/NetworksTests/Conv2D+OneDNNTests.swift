import Foundation
import Testing
import TensorCore
@testable import Networks
import TestSupport
import Trials

/// The oneDNN backend against the im2col oracle on layer sizes where oneDNN picks its blocked JIT
/// kernels (channels multiple of 8), including the adding-gradient contract and geometry changes.
@Suite(.enabled(if: Conv2D.Backend.available.contains(.onednn), "oneDNN (libdnnl-dev) was not found when this build was made"))
struct Conv2DOneDNNTests {
    static let cases: [ConvCase] = [
        ConvCase(n: 3, c: 8, o: 16, h: 10, w: 10, k: 3, stride: 1, padding: 1, bias: true),
        ConvCase(n: 2, c: 3, o: 16, h: 9, w: 9, k: 3, stride: 1, padding: 1, bias: true),
        ConvCase(n: 2, c: 16, o: 8, h: 8, w: 6, k: 3, stride: 1, padding: 1, bias: false),
        ConvCase(n: 2, c: 8, o: 8, h: 9, w: 9, k: 3, stride: 2, padding: 1, bias: true),
        ConvCase(n: 4, c: 24, o: 32, h: 2, w: 2, k: 3, stride: 1, padding: 1, bias: true),
    ]

    /// Forward output, input gradient and the parameter gradients after two backward passes.
    static func run(_ t: ConvCase, _ backend: Conv2D.Backend) throws -> [Tensor] {
        let (layer, x) = try Conv2DTests.make(t, seed: 11)
        layer.backend = backend
        var rng = SeededRNG(seed: 12)
        let y = try layer.forward(x, mode: .train)
        let dy = Tensor.randomNormal(y.shape, rng: &rng)
        let dx = try layer.backward(dy, parameterGradients: true)
        _ = try layer.backward(dy, parameterGradients: true)  // grads must now be doubled, not replaced
        return [y, dx] + layer.parameters.map(\.grad)
    }

    @Test("oneDNN agrees with im2col on forward, dx, dW, db", arguments: cases)
    func agreesWithIm2col(_ t: ConvCase) throws {
        let ours = try Self.run(t, .onednn), oracle = try Self.run(t, .im2col)
        #expect(ours.count == oracle.count)
        for (i, (a, b)) in zip(ours, oracle).enumerated() {
            // Float32 sums of ≤ 128·100 products in different orders: relative error ≲ 1e-5.
            expectClose(a.data, b.data, .relativeToLargest(1e-4, floor: 1), "\(t) output \(i)")
        }
    }

    @Test("oneDNN follows a change of batch and image size, and evaluation after training")
    func geometryChanges() throws {
        let (layer, _) = try Conv2DTests.make(ConvCase(n: 1, c: 8, o: 8, h: 1, w: 1, k: 3, stride: 1, padding: 1, bias: true))
        var rng = SeededRNG(seed: 3)
        for shape in [[2, 8, 6, 6], [5, 8, 6, 6], [2, 8, 4, 7], [2, 8, 6, 6]] {
            let x = Tensor.randomNormal(shape, rng: &rng)
            layer.backend = .onednn
            let y = try layer.forward(x, mode: .eval)
            let ref = try Conv2D.referenceForward(x, weight: layer.weight.value, bias: layer.bias?.value, stride: 1, padding: 1)
            expectClose(y.data, ref.data, .absolute(1e-4), "\(shape)")
        }
    }

    @Test("oneDNN is bitwise reproducible across fresh layers (plans fix their thread split)")
    func reproducible() throws {
        let t = ConvCase(n: 16, c: 3, o: 2, h: 8, w: 8, k: 3, stride: 1, padding: 1, bias: true)
        let a = try Self.run(t, .onednn), b = try Self.run(t, .onednn)
        for (x, y) in zip(a, b) { #expect(x.data.map(\.bitPattern) == y.data.map(\.bitPattern)) }
    }
}
