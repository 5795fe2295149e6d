import Foundation
import Testing
import TensorCore
@testable import Networks

/// The oneDNN backend against the im2col oracle on layer sizes where oneDNN picks its blocked JIT
/// kernels (channels multiple of 8), including the adding-gradient contract and geometry changes.
@Suite struct Conv2DOneDNNTests {
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
        guard Conv2D.Backend.available.contains(.onednn) else { return }
        let ours = try Self.run(t, .onednn), oracle = try Self.run(t, .im2col)
        #expect(ours.count == oracle.count)
        for (i, (a, b)) in zip(ours, oracle).enumerated() {
            let scale = max(1, b.data.reduce(0) { max($0, abs($1)) })
            // Float32 sums of ≤ 128·100 products in different orders: relative error ≲ 1e-5.
            #expect(maxAbsDiff(a, b) / scale < 1e-4, "\(t) output \(i)")
        }
    }

    /// Winograd engages on channel counts that are multiples of 16 and maps of ≥ 8×8 (4×4: weight
    /// gradient only). It is a different algorithm, so the bound is looser than for direct kernels.
    @Test("Winograd training passes agree with im2col, and evaluation stays direct",
          arguments: [ConvCase(n: 2, c: 16, o: 32, h: 8, w: 8, k: 3, stride: 1, padding: 1, bias: true),
                      ConvCase(n: 3, c: 32, o: 16, h: 12, w: 10, k: 3, stride: 1, padding: 1, bias: false),
                      ConvCase(n: 4, c: 16, o: 16, h: 4, w: 4, k: 3, stride: 1, padding: 1, bias: true)])
    func winogradAgreesWithIm2col(_ t: ConvCase) throws {
        guard Conv2D.Backend.available.contains(.winograd) else { return }
        let ours = try Self.run(t, .winograd), oracle = try Self.run(t, .im2col)
        for (i, (a, b)) in zip(ours, oracle).enumerated() {
            let scale = max(1, b.data.reduce(0) { max($0, abs($1)) })
            // Measured ≈1e-6 of the largest value (direct kernels: ≈3e-7).
            #expect(maxAbsDiff(a, b) / scale < 1e-5, "\(t) output \(i)")
        }
        #if canImport(CDNNL)
        let (layer, x) = try Conv2DTests.make(t, seed: 11)
        layer.backend = .winograd
        let g = try layer.geometry(x)
        let train = try layer.oneDNNPlan(batch: t.n, height: t.h, width: t.w, winograd: layer.winogradPasses(g, train: true))
        let eval = try layer.oneDNNPlan(batch: t.n, height: t.h, width: t.w, winograd: layer.winogradPasses(g, train: false))
        #expect(!eval.implementations.contains { $0.contains("wino") }, "\(eval.implementations)")
        if Self.cpuHasAVX512 {  // oneDNN 2.x has Winograd kernels for AVX-512 only
            let expected = t.h * t.w >= 64 ? [true, true, true] : [false, false, true]
            #expect(train.implementations.map { $0.contains("wino") } == expected, "\(train.implementations)")
        }
        #endif
    }

    static var cpuHasAVX512: Bool {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        return info.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").contains("avx512f") ?? false
    }

    @Test("oneDNN follows a change of batch and image size, and evaluation after training")
    func geometryChanges() throws {
        guard Conv2D.Backend.available.contains(.onednn) else { return }
        let (layer, _) = try Conv2DTests.make(ConvCase(n: 1, c: 8, o: 8, h: 1, w: 1, k: 3, stride: 1, padding: 1, bias: true))
        var rng = SeededRNG(seed: 3)
        for shape in [[2, 8, 6, 6], [5, 8, 6, 6], [2, 8, 4, 7], [2, 8, 6, 6]] {
            let x = Tensor.randomNormal(shape, rng: &rng)
            layer.backend = .onednn
            let y = try layer.forward(x, mode: .eval)
            let ref = try Conv2D.referenceForward(x, weight: layer.weight.value, bias: layer.bias?.value, stride: 1, padding: 1)
            #expect(maxAbsDiff(y, ref) < 1e-4, "\(shape)")
        }
    }

    @Test("oneDNN is bitwise reproducible across fresh layers (plans fix their thread split)")
    func reproducible() throws {
        guard Conv2D.Backend.available.contains(.onednn) else { return }
        let t = ConvCase(n: 16, c: 3, o: 2, h: 8, w: 8, k: 3, stride: 1, padding: 1, bias: true)
        let a = try Self.run(t, .onednn), b = try Self.run(t, .onednn)
        for (x, y) in zip(a, b) { #expect(x.data.map(\.bitPattern) == y.data.map(\.bitPattern)) }
    }
}
