import Testing
import TensorCore
@testable import Networks

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
        for i in 0..<expectedW.count {
            #expect(abs(layer.weight.grad.data[i] - offset.data[i] - expectedW.data[i]) <= 1e-4 * max(1, abs(expectedW.data[i])), "\(t) w[\(i)]")
        }
        if let expectedB, let got = layer.bias?.grad {
            for i in 0..<t.o { #expect(abs(got.data[i] - 0.5 - expectedB.data[i]) <= 1e-4 * max(1, abs(expectedB.data[i])), "\(t) b[\(i)]") }
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
            for i in 0..<y.count { #expect(abs(y.data[i] - yRef.data[i]) <= 1e-4 * max(1, abs(yRef.data[i])), "step \(step)") }
            let dy = Tensor.randomNormal(y.shape, rng: &rng)
            let dx = try fast.backward(dy, parameterGradients: true), dxRef = try oracle.backward(dy, parameterGradients: true)
            for i in 0..<dx.count { #expect(abs(dx.data[i] - dxRef.data[i]) <= 1e-4 * max(1, abs(dxRef.data[i]))) }
            for (p, q) in zip(fast.parameters, oracle.parameters) {
                for i in 0..<p.grad.count { #expect(abs(p.grad.data[i] - q.grad.data[i]) <= 1e-4 * max(1, abs(q.grad.data[i])), "\(p.name)") }
            }
        }
    }
}
