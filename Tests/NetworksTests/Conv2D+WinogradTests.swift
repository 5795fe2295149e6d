import CMachine
import Testing
import TensorCore
@testable import Networks
import TestSupport
import Trials

/// Our Winograd F(4×4, 3×3) against the naive 7-loop convolution, the im2col path and finite differences, on
/// map sizes that are and are not multiples of the 4×4 tile, and on both vector widths.
@Suite struct Conv2DWinogradTests {
    static let hasKernels = fs_wino_lanes(8) > 0
    static let hasAVX512 = fs_has_avx512() == 1

    /// Maps of ≥ 16 positions (where the plan takes Winograd), ragged ones (not multiples of the 4×4 tile), one
    /// tile per image, and a batch of several groups (`targetRows` / 4 tiles = 64 images per group).
    static let cases: [ConvCase] = [
        ConvCase(n: 3, c: 16, o: 32, h: 8, w: 8, k: 3, stride: 1, padding: 1, bias: true),
        ConvCase(n: 2, c: 8, o: 16, h: 6, w: 11, k: 3, stride: 1, padding: 1, bias: false),
        ConvCase(n: 2, c: 32, o: 16, h: 9, w: 8, k: 3, stride: 1, padding: 1, bias: true),
        ConvCase(n: 5, c: 32, o: 16, h: 4, w: 4, k: 3, stride: 1, padding: 1, bias: true),
        ConvCase(n: 70, c: 8, o: 8, h: 8, w: 8, k: 3, stride: 1, padding: 1, bias: true),
    ]

    /// Forward output, input gradient and parameter gradients after two backward passes, on `backend`.
    static func run(_ t: ConvCase, _ backend: Conv2D.Backend) throws -> [Tensor] {
        let (layer, x) = try Conv2DTests.make(t, seed: 21)
        layer.backend = backend
        var rng = SeededRNG(seed: 22)
        let y = try layer.forward(x, mode: .train)
        let dy = Tensor.randomNormal(y.shape, rng: &rng)
        let dx = try layer.backward(dy, parameterGradients: true)
        _ = try layer.backward(dy, parameterGradients: true)  // grads must now be doubled, not replaced
        return [y, dx] + layer.parameters.map(\.grad)
    }

    @Test("the plan picks Winograd for training passes only, and not for 3 channels, stride 2 or 3×3 maps",
          .enabled(if: hasKernels, "the Winograd kernels need AVX2 + FMA"))
    func planChoice() throws {
        let (layer, x) = try Conv2DTests.make(Self.cases[0])
        layer.backend = .winograd
        let g = try layer.geometry(x)
        #expect(layer.paths(g, train: true) == (.winograd, .winograd, .winograd))
        #expect(layer.paths(g, train: false).forward != .winograd)
        let (prep, px) = try Conv2DTests.make(ConvCase(n: 2, c: 3, o: 16, h: 8, w: 8, k: 3, stride: 1, padding: 1, bias: true))
        #expect(prep.paths(try prep.geometry(px), train: true).forward != .winograd)
        let (strided, sx) = try Conv2DTests.make(ConvCase(n: 2, c: 8, o: 8, h: 8, w: 8, k: 3, stride: 2, padding: 1, bias: true))
        #expect(strided.paths(try strided.geometry(sx), train: true).forward != .winograd)
        let (small, mx) = try Conv2DTests.make(ConvCase(n: 2, c: 16, o: 16, h: 3, w: 3, k: 3, stride: 1, padding: 1, bias: true))
        #expect(small.paths(try small.geometry(mx), train: true).forward != .winograd)
        _ = try layer.forward(x, mode: .train)
        #expect(layer.lastPlan?.forward == .winograd)
    }

    @Test("forward matches the naive convolution within the documented rounding",
          .enabled(if: hasKernels, "the Winograd kernels need AVX2 + FMA"), arguments: cases)
    func forwardMatchesNaive(_ t: ConvCase) throws {
        let (layer, x) = try Conv2DTests.make(t, seed: 21)
        layer.backend = .winograd
        let y = try layer.forward(x, mode: .train)
        #expect(layer.lastPlan?.forward == .winograd)
        let ref = try Conv2D.referenceForward(x, weight: layer.weight.value, bias: layer.bias?.value, stride: 1, padding: 1)
        // Documented ≈ 2e-6 of the largest output; direct float32 ≈ 3e-7. A wrong tap or tile gives O(1).
        expectClose(y.data, ref.data, .relativeToLargest(2e-5, floor: 1), "\(t)")
    }

    @Test("input and parameter gradients agree with im2col (gradients add across calls)",
          .enabled(if: hasKernels, "the Winograd kernels need AVX2 + FMA"), arguments: cases)
    func gradientsMatchIm2col(_ t: ConvCase) throws {
        let ours = try Self.run(t, .winograd), oracle = try Self.run(t, .im2col)
        #expect(ours.count == oracle.count)
        for (i, (a, b)) in zip(ours, oracle).enumerated() {
            expectClose(a.data, b.data, .relativeToLargest(2e-5, floor: 1), "\(t) output \(i)")
        }
    }

    @Test("gradients agree with finite differences of the Winograd forward",
          .enabled(if: hasKernels, "the Winograd kernels need AVX2 + FMA"))
    func finiteDifferences() throws {
        let (layer, x) = try Conv2DTests.make(ConvCase(n: 1, c: 8, o: 8, h: 9, w: 8, k: 3, stride: 1, padding: 1, bias: true))
        layer.backend = .winograd
        let result = try checkGradients(layer: layer, input: x)
        #expect(layer.lastPlan?.forward == .winograd)
        #expect(result.worst < 1e-2, "\(result)")
    }

    @Test("the AVX2 (8-float) and AVX-512 (16-float) kernels give the same results",
          .enabled(if: hasAVX512, "needs a CPU with AVX-512 (and FSWEEP_ISA not set to avx2)"))
    func vectorWidthsAgree() throws {
        let t = Self.cases[0]
        let wide = try Self.run(t, .winograd)
        fs_wino_limit_lanes(8)
        defer { fs_wino_limit_lanes(16) }
        #expect(fs_wino_lanes(16) == 8)
        let narrow = try Self.run(t, .winograd)
        for (i, (a, b)) in zip(wide, narrow).enumerated() {
            expectClose(a.data, b.data, .relativeToLargest(1e-6, floor: 1), "output \(i)")
        }
    }
}
