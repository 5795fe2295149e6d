import Testing
import TensorCore
import Trials
@testable import Networks
import TestSupport

/// The sparse input-gradient path (several cotangents at once, only non-zero output positions).
@Suite struct Conv2DSparseGradientTests {
    /// Channel counts cover the scalar tail (C < 16), the per-pixel gather (stride 1, C a multiple of 32,
    /// on AVX-512; C = 64 with O = 600 gives two 32-channel blocks), the fused 16-wide scatter strips
    /// (C = 48, and C = 32 on other CPUs) and several scatter blocks (C = 48 with O = 600: the 192 KiB
    /// weight budget gives 16-channel blocks).
    static let cases: [ConvCase] = [
        ConvCase(n: 2, c: 3, o: 6, h: 7, w: 6, k: 3, stride: 1, padding: 1, bias: true),
        ConvCase(n: 2, c: 32, o: 8, h: 6, w: 5, k: 3, stride: 1, padding: 1, bias: false),
        ConvCase(n: 1, c: 48, o: 600, h: 4, w: 4, k: 3, stride: 1, padding: 1, bias: true),
        ConvCase(n: 1, c: 64, o: 600, h: 4, w: 3, k: 3, stride: 1, padding: 1, bias: false),
        ConvCase(n: 2, c: 16, o: 4, h: 9, w: 7, k: 3, stride: 2, padding: 0, bias: true),
        ConvCase(n: 1, c: 5, o: 3, h: 8, w: 8, k: 5, stride: 2, padding: 2, bias: false),
    ]

    /// `copies` cotangents with about `density` of their entries non-zero, sharing one mask like
    /// the per-class gradients behind a max pool do, plus a few entries only one copy has.
    static func sparseCotangents(_ shape: [Int], copies: Int, density: Float, rng: inout SeededRNG) -> Tensor {
        let per = shape.reduce(1, *)
        let mask = Tensor.randomUniform([per], 0, 1, rng: &rng)
        var dy = Tensor.randomNormal([copies * shape[0]] + shape.dropFirst(), rng: &rng)
        for k in 0..<copies {
            for e in 0..<per where mask.data[e] > density && !(k == copies - 1 && e % 97 == 0) { dy.data[k * per + e] = 0 }
        }
        return dy
    }

    @Test("sparse input gradients equal one im2col backward per copy", arguments: cases, [1, 3, 7, 10])
    func matchesPerCopyBackward(_ t: ConvCase, copies: Int) throws {
        let (layer, x) = try Conv2DTests.make(t)
        layer.backend = .im2col
        let y = try layer.forward(x, mode: .eval)
        var rng = SeededRNG(seed: 11)
        let dy = Self.sparseCotangents(y.shape, copies: copies, density: 0.15, rng: &rng)
        #expect(Conv2D.nonzeroFraction(dy) <= Conv2D.sparseDensityLimit)
        let g = Conv2D.Geometry(c: t.c, h: t.h, w: t.w, k: t.k, s: t.stride, pad: t.padding, oh: y.shape[2], ow: y.shape[3])
        var sparse = Tensor(zeros: [copies * t.n, t.c, t.h, t.w])
        Conv2D.sparseInputGradient(dy: dy, weight: layer.weight.value, g, batch: t.n, copies: copies, outChannels: t.o, dx: &sparse)
        let viaLayer = try layer.inputGradients(dy, copies: copies)
        for k in 0..<copies {
            let expected = try layer.backward(dy.rows((k * t.n)..<((k + 1) * t.n)), parameterGradients: false)
            let part = sparse.rows((k * t.n)..<((k + 1) * t.n))
            expectClose(part.data, expected.data, .relativeToLargest(1e-5, floor: 1), "copy \(k)")
        }
        #expect(viaLayer.data == sparse.data)
    }

    @Test("sparse gradients are the adjoint of the naive convolution: ⟨conv(v), dy⟩ = ⟨v, dx⟩")
    func adjointOfReferenceConvolution() throws {
        let t = ConvCase(n: 2, c: 24, o: 10, h: 6, w: 7, k: 3, stride: 1, padding: 1, bias: false)
        let (layer, x) = try Conv2DTests.make(t)
        _ = try layer.forward(x, mode: .eval)
        var rng = SeededRNG(seed: 5)
        let copies = 4
        let dy = Self.sparseCotangents([t.n, t.o, t.h, t.w], copies: copies, density: 0.1, rng: &rng)
        let dx = try layer.inputGradients(dy, copies: copies)
        for k in 0..<copies {
            let v = Tensor.randomNormal([t.n, t.c, t.h, t.w], rng: &rng)
            let conv = try Conv2D.referenceForward(v, weight: layer.weight.value, bias: nil, stride: 1, padding: 1)
            let dyk = dy.rows((k * t.n)..<((k + 1) * t.n)), dxk = dx.rows((k * t.n)..<((k + 1) * t.n))
            let lhs = zip(conv.data, dyk.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let rhs = zip(v.data, dxk.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            expectClose(rhs, lhs, .relative(1e-4, floor: 1), "copy \(k): ⟨conv v, dy⟩ vs ⟨v, dx⟩")
        }
    }

    @Test("dense cotangents (per-copy backward from 16 input channels, Wᵀ·dy columns below) match the naive adjoint",
          arguments: [ConvCase(n: 2, c: 4, o: 3, h: 5, w: 5, k: 3, stride: 1, padding: 1, bias: true),
                      ConvCase(n: 3, c: 3, o: 8, h: 6, w: 7, k: 3, stride: 1, padding: 1, bias: false),
                      ConvCase(n: 2, c: 3, o: 4, h: 7, w: 6, k: 3, stride: 2, padding: 0, bias: true),
                      ConvCase(n: 2, c: 16, o: 5, h: 5, w: 5, k: 3, stride: 1, padding: 1, bias: true)])
    func denseFallback(_ t: ConvCase) throws {
        let (layer, x) = try Conv2DTests.make(t)
        let y = try layer.forward(x, mode: .eval)
        var rng = SeededRNG(seed: 3)
        let copies = 3
        let dy = Tensor.randomNormal([copies * t.n] + y.shape.dropFirst(), rng: &rng)
        #expect(Conv2D.nonzeroFraction(dy) > Conv2D.sparseDensityLimit)
        let dx = try layer.inputGradients(dy, copies: copies)
        #expect(dx.shape == [copies * t.n, t.c, t.h, t.w])
        // ⟨conv(v), dy⟩ = ⟨v, dx⟩ per copy, with the naive 7-loop convolution (no bias) as the oracle.
        for k in 0..<copies {
            let v = Tensor.randomNormal([t.n, t.c, t.h, t.w], rng: &rng)
            let conv = try Conv2D.referenceForward(v, weight: layer.weight.value, bias: nil, stride: t.stride, padding: t.padding)
            let dyk = dy.rows((k * t.n)..<((k + 1) * t.n)), dxk = dx.rows((k * t.n)..<((k + 1) * t.n))
            let lhs = zip(conv.data, dyk.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let rhs = zip(v.data, dxk.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            expectClose(rhs, lhs, .relative(1e-4, floor: 1), "copy \(k): ⟨conv v, dy⟩ vs ⟨v, dx⟩")
        }
    }

    @Test("the density estimate follows the true fraction")
    func densityEstimate() {
        var t = Tensor(zeros: [1_000_003])
        for i in stride(from: 0, to: t.count, by: 4) { t.data[i] = 1 }
        expectClose(Conv2D.nonzeroFraction(t), 0.25, .absolute(0.01))
        #expect(Conv2D.nonzeroFraction(Tensor(zeros: [17])) == 0)
    }

    @Test("a whole model's batched per-class gradients equal one backward per class",
          arguments: [(ModelConfig.Architecture.myrtle, false), (.vgg11, false), (.convactually, false), (.myrtle, true), (.vgg11, true)])
    func modelInputGradients(_ arch: ModelConfig.Architecture, batchNorm: Bool) throws {
        let cfg = ModelConfig(arch: arch, width: 8, batchNorm: batchNorm, classes: 7, imageSize: 16)
        let model = try Model(cfg, seed: 4)
        var rng = SeededRNG(seed: 9)
        let n = 3, k = cfg.classes
        let x = Tensor.randomUniform([n, 3, 16, 16], 0, 1, rng: &rng)
        _ = try model.forward(x, mode: .eval)
        var dy = Tensor(zeros: [k * n, k])
        for l in 0..<k { for i in 0..<n { dy.data[(l * n + i) * k + l] = 1 } }
        let batched = try model.inputGradients(dy, copies: k)
        #expect(batched.shape == [k * n, 3, 16, 16])
        for l in 0..<k {
            let single = try model.backward(dy.rows((l * n)..<((l + 1) * n)), parameterGradients: false)
            let part = batched.rows((l * n)..<((l + 1) * n))
            expectClose(part.data, single.data, .relativeToLargest(1e-5, floor: 1e-3), "class \(l)")
        }
    }

    /// The layer between convolution and pool in `pooledMatchesLayerByLayer`.
    enum Gate: String, CustomStringConvertible, Sendable, CaseIterable {
        case none, relu, batchNormReLU, batchNorm
        var description: String { rawValue }

        /// The layer, BatchNorm with random statistics and affine parameters (some γ negative).
        func make(channels: Int, rng: inout SeededRNG) -> (any Layer)? {
            switch self {
            case .none: return nil
            case .relu: return ReLU()
            case .batchNormReLU, .batchNorm:
                let bn = BatchNorm2D(channels: channels, name: "bn", relu: self == .batchNormReLU)
                bn.gamma.value = Tensor.randomNormal([channels], rng: &rng)
                bn.beta.value = Tensor.randomNormal([channels], rng: &rng)
                bn.runningMean.value = Tensor.randomNormal([channels], rng: &rng)
                bn.runningVar.value = Tensor.randomUniform([channels], 0.5, 2, rng: &rng)
                return bn
            }
        }
    }

    @Test("gradients straight from a following max pool (ReLU, BatchNorm or nothing between) equal pool, gate and conv backward per copy",
          arguments: [(ConvCase(n: 2, c: 32, o: 6, h: 8, w: 8, k: 3, stride: 1, padding: 1, bias: true), 2, Gate.relu),
                      (ConvCase(n: 3, c: 48, o: 5, h: 6, w: 6, k: 3, stride: 1, padding: 1, bias: false), 2, Gate.none),
                      (ConvCase(n: 2, c: 5, o: 7, h: 8, w: 8, k: 3, stride: 1, padding: 1, bias: true), 4, Gate.relu),
                      (ConvCase(n: 2, c: 16, o: 3, h: 4, w: 4, k: 3, stride: 1, padding: 1, bias: true), 0, Gate.relu),
                      (ConvCase(n: 2, c: 32, o: 6, h: 8, w: 6, k: 3, stride: 1, padding: 1, bias: false), 2, Gate.batchNormReLU),
                      (ConvCase(n: 2, c: 7, o: 5, h: 6, w: 6, k: 3, stride: 1, padding: 1, bias: false), 2, Gate.batchNorm)],
          [1, 3, 10])
    func pooledMatchesLayerByLayer(_ setup: (ConvCase, Int, Gate), copies: Int) throws {
        let (t, poolKernel, kind) = setup
        let (conv, x) = try Conv2DTests.make(t)
        conv.backend = .im2col
        var rng = SeededRNG(seed: 17)
        let gate = kind.make(channels: t.o, rng: &rng)
        let pool = poolKernel > 0 ? MaxPool2D(kernel: poolKernel) : MaxPool2D(global: ())
        var h = try conv.forward(x, mode: .eval)
        if let gate { h = try gate.forward(h, mode: .eval) }
        let pooled = try pool.forward(h, mode: .eval)
        // Dense pooled cotangents with a few entries zero in every copy (they must list nothing).
        var dy = Tensor.randomNormal([copies * t.n] + pooled.shape.dropFirst(), rng: &rng)
        for e in stride(from: 0, to: pooled.count, by: 5) { for k in 0..<copies { dy.data[k * pooled.count + e] = 0 } }
        let fused = try #require(try conv.inputGradients(pooled: dy, pool: pool, gate: gate as? any ChannelGate, copies: copies))
        #expect(fused.shape == [copies * t.n, t.c, t.h, t.w])
        for k in 0..<copies {
            var g = try pool.backward(dy.rows((k * t.n)..<((k + 1) * t.n)), parameterGradients: false)
            if let gate { g = try gate.backward(g, parameterGradients: false) }
            let expected = try conv.backward(g, parameterGradients: false)  // dense im2col backward
            let part = fused.rows((k * t.n)..<((k + 1) * t.n))
            expectClose(part.data, expected.data, .relativeToLargest(1e-5, floor: 1), "copy \(k)")
        }
        // The same entries in the same order as the layer-by-layer sparse path: equal to the bit.
        var g = try pool.inputGradients(dy, copies: copies)
        if let gate { g = try gate.inputGradients(g, copies: copies) }
        #expect(try conv.inputGradients(g, copies: copies).data == fused.data)
    }

    @Test("a BatchNorm whose last pass was in training mode is not folded into the pooled gradient")
    func pooledDeclinesTrainingBatchNorm() throws {
        let t = ConvCase(n: 3, c: 4, o: 3, h: 6, w: 6, k: 3, stride: 1, padding: 1, bias: false)
        let (conv, x) = try Conv2DTests.make(t)
        let bn = BatchNorm2D(channels: t.o, name: "bn", relu: true), pool = MaxPool2D(kernel: 2)
        let pooled = try pool.forward(try bn.forward(try conv.forward(x, mode: .train), mode: .train), mode: .train)
        #expect(try conv.inputGradients(pooled: Tensor(zeros: pooled.shape), pool: pool, gate: bn, copies: 1) == nil)
    }

    @Test("the fused pool step declines layers that do not fit together, and Sequential then goes layer by layer")
    func pooledDeclinesMismatch() throws {
        let t = ConvCase(n: 2, c: 4, o: 3, h: 6, w: 6, k: 3, stride: 1, padding: 1, bias: true)
        let (conv, x) = try Conv2DTests.make(t)
        let pool = MaxPool2D(kernel: 2)
        var rng = SeededRNG(seed: 2)
        let other = try pool.forward(Tensor.randomNormal([2, 3, 8, 8], rng: &rng), mode: .eval)  // not conv's output
        _ = try conv.forward(x, mode: .eval)
        #expect(try conv.inputGradients(pooled: Tensor(zeros: other.shape), pool: pool, gate: nil, copies: 1) == nil)
        // A 1×1 pool keeps every position: too dense for the sparse path.
        let unit = MaxPool2D(kernel: 1)
        let y = try unit.forward(try conv.forward(x, mode: .eval), mode: .eval)
        #expect(try conv.inputGradients(pooled: Tensor(zeros: y.shape), pool: unit, gate: nil, copies: 1) == nil)
        let net = Sequential([conv, unit])
        let out = try net.forward(x, mode: .eval)
        let dy = Tensor.randomNormal(out.shape, rng: &rng)
        let layerByLayer = try conv.inputGradients(try unit.inputGradients(dy, copies: 1), copies: 1)
        #expect(try net.inputGradients(dy, copies: 1).data == layerByLayer.data)
    }
}
