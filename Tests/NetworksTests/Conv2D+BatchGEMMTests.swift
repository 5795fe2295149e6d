import Testing
import TensorCore
@testable import Networks
import TestSupport
import Trials

/// The batch-wide GEMM weight gradient used for small output maps.
@Suite struct Conv2DBatchGEMMTests {
    @Test("batch-wide GEMM weight and bias gradients equal the per-image im2col ones",
          arguments: [
              ConvCase(n: 3, c: 5, o: 4, h: 2, w: 2, k: 3, stride: 1, padding: 1, bias: true),
              ConvCase(n: 2, c: 3, o: 6, h: 4, w: 4, k: 3, stride: 1, padding: 1, bias: false),
              ConvCase(n: 4, c: 2, o: 3, h: 7, w: 5, k: 3, stride: 2, padding: 1, bias: true),
          ])
    func matchesPerImageGradient(_ t: ConvCase) throws {
        try Self.checkAgainstIm2col(t, seed: 21) { layer, x, dy, g in layer.batchedWeightGradient(x: x, dy: dy, g) }
    }

    /// Runs `weightGradient` on top of non-zero gradients (the contract is to add) and compares what it
    /// added with the per-image im2col backward's weight and bias gradients.
    static func checkAgainstIm2col(_ t: ConvCase, seed: UInt64,
                                   _ weightGradient: (Conv2D, Tensor, Tensor, Conv2D.Geometry) -> Void) throws {
        let (layer, x) = try Conv2DTests.make(t)
        layer.backend = .im2col
        let y = try layer.forward(x, mode: .train)
        var rng = SeededRNG(seed: seed)
        let dy = Tensor.randomNormal(y.shape, rng: &rng)
        _ = try layer.backward(dy, parameterGradients: true)
        let expectedW = layer.weight.grad, expectedB = layer.bias?.grad
        let offset = Tensor.randomNormal(expectedW.shape, rng: &rng)
        layer.weight.grad = offset
        layer.bias?.grad = Tensor(repeating: 0.5, shape: [t.o])
        weightGradient(layer, x, dy, try layer.geometry(x))
        expectClose(zip(layer.weight.grad.data, offset.data).map { $0 - $1 }, expectedW.data, .relative(1e-4, floor: 1), "\(t) w (added)")
        if let expectedB, let got = layer.bias?.grad {
            expectClose(got.data.map { $0 - 0.5 }, expectedB.data, .relative(1e-4, floor: 1), "\(t) b (added)")
        }
    }

    @Test("a training step through the default backend (batch-GEMM weight gradients on small maps, unrolled 2×2) matches im2col",
          arguments: [ConvCase(n: 4, c: 6, o: 5, h: 4, w: 4, k: 3, stride: 1, padding: 1, bias: true),
                      ConvCase(n: 3, c: 4, o: 3, h: 2, w: 2, k: 3, stride: 1, padding: 1, bias: false)])
    func trainingStepMatchesIm2col(_ t: ConvCase) throws {
        let (fast, x) = try Conv2DTests.make(t)
        let (oracle, _) = try Conv2DTests.make(t)
        oracle.backend = .im2col
        var rng = SeededRNG(seed: 8)
        for step in 0..<2 {  // the second step reuses the kept buffers
            let y = try fast.forward(x, mode: .train), yRef = try oracle.forward(x, mode: .train)
            expectClose(y.data, yRef.data, .relative(1e-4, floor: 1), "step \(step) y")
            let dy = Tensor.randomNormal(y.shape, rng: &rng)
            let dx = try fast.backward(dy, parameterGradients: true), dxRef = try oracle.backward(dy, parameterGradients: true)
            expectClose(dx.data, dxRef.data, .relative(1e-4, floor: 1), "step \(step) dx")
            for (p, q) in zip(fast.parameters, oracle.parameters) {
                expectClose(p.grad.data, q.grad.data, .relative(1e-4, floor: 1), "step \(step) \(p.name)")
            }
        }
    }
}
