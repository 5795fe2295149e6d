import Testing
import TensorCore
@testable import Networks
import TestSupport
import Trials

@Suite struct SimpleLayerTests {
    @Test("ReLU zeroes negatives and keeps NaN (in the vector and the scalar tail), so divergence stays visible")
    func reluKeepsNaN() throws {
        let values: [Float] = [.nan, -1, 2, -0.5, 0, 3, -.infinity, .infinity, -2, .nan, 1]  // 8 SIMD lanes + 3 tail
        let y = try ReLU().forward(Tensor(shape: [1, values.count], data: values), mode: .eval)
        for (v, out) in zip(values, y.data) {
            if v.isNaN { #expect(out.isNaN) } else { #expect(out == max(v, 0)) }
        }
    }

    @Test func reluBackwardMatchesFiniteDifferences() throws {
        let x = kinkFreeInput([2, 3, 4, 4], seed: 1)
        #expect(try checkGradients(layer: ReLU(), input: x, mode: .train, maxEntries: 96).worst < 1e-2)
        let y = try ReLU().forward(x, mode: .eval)
        for i in 0..<x.count { #expect(y.data[i] == max(0, x.data[i])) }
    }

    @Test(arguments: [2, 4])
    func maxPoolForwardAndBackward(k: Int) throws {
        let x = kinkFreeInput([2, 2, 8, 8], seed: UInt64(k))
        let pool = MaxPool2D(kernel: k)
        let y = try pool.forward(x, mode: .eval)
        #expect(y.shape == [2, 2, 8 / k, 8 / k])
        // Naive window max.
        for n in 0..<2 { for c in 0..<2 { for i in 0..<(8 / k) { for j in 0..<(8 / k) {
            var m = -Float.infinity
            for p in 0..<k { for q in 0..<k { m = max(m, x[n, c, i * k + p, j * k + q]) } }
            #expect(y[n, c, i, j] == m)
        } } } }
        #expect(try checkGradients(layer: pool, input: x, mode: .eval, maxEntries: 128).worst < 1e-2)
    }

    /// Both the 8-wide vector rows (`pool2x2Row`) and the scalar remainder: odd maps are floored, ties send
    /// the gradient to the first window entry, NaN never wins a window and an all-NaN window gives −∞ with
    /// its first entry as arg-max — the scan `if v > best` from −∞, written out here as the oracle.
    @Test("2×2 pooling: odd maps floored, ties to the first entry, NaN never wins (vector rows and scalar tail)",
          arguments: [[1, 1, 5, 7], [2, 3, 7, 37]])
    func maxPool2x2TiesAndOddSizes(shape: [Int]) throws {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        var x = Tensor(zeros: shape)
        for b in 0..<n { for ch in 0..<c { for i in 0..<h { for j in 0..<w {
            x[b, ch, i, j] = Float((i * 7 + j + ch) % 3)  // repeated values: ties
        } } } }
        if w > 16 {
            x[0, 0, 0, 4] = .nan  // one NaN in a window
            for (p, q) in [(2, 6), (2, 7), (3, 6), (3, 7)] { x[1, 2, p, q] = .nan }  // an all-NaN window
            x[0, 1, 5, 33] = -.infinity
        }
        let pool = MaxPool2D(kernel: 2)
        let y = try pool.forward(x, mode: .eval)
        let (oh, ow) = (h / 2, w / 2)
        #expect(y.shape == [n, c, oh, ow])
        let dx = try pool.backward(Tensor(repeating: 1, shape: [n, c, oh, ow]), parameterGradients: false)
        for b in 0..<n { for ch in 0..<c { for i in 0..<oh { for j in 0..<ow {
            let window = [(0, 0), (0, 1), (1, 0), (1, 1)].map { (2 * i + $0.0, 2 * j + $0.1) }
            var best = -Float.infinity, first = window[0]
            for (p, q) in window where x[b, ch, p, q] > best { best = x[b, ch, p, q]; first = (p, q) }
            #expect(y[b, ch, i, j] == best, "window \(b),\(ch),\(i),\(j)")
            for (p, q) in window { #expect(dx[b, ch, p, q] == ((p, q) == first ? 1 : 0), "window \(b),\(ch),\(i),\(j)") }
        } } } }
    }

    @Test func globalMaxPoolTakesThePlaneMaximum() throws {
        let x = kinkFreeInput([3, 2, 5, 6], seed: 3)
        let y = try MaxPool2D(global: ()).forward(x, mode: .eval)
        #expect(y.shape == [3, 2, 1, 1])
        for p in 0..<6 { #expect(y.data[p] == x.data[(p * 30)..<((p + 1) * 30)].max()) }
        #expect(try checkGradients(layer: MaxPool2D(global: ()), input: x, mode: .eval, maxEntries: 180).worst < 1e-2)
    }

    @Test func batchNormTrainAndEvalGradients() throws {
        var rng = SeededRNG(seed: 4)
        let x = Tensor.randomNormal([4, 3, 3, 3], std: 2, rng: &rng)
        let bn = BatchNorm2D(channels: 3, name: "bn")
        for i in 0..<3 { bn.gamma.value.data[i] = 0.5 + Float(i); bn.beta.value.data[i] = Float(i) - 1 }
        // Train mode: FD through the batch statistics (each FD forward also moves the running stats; harmless here).
        #expect(try checkGradients(layer: bn, input: x, mode: .train, maxEntries: 108).worst < 1e-2)
        bn.runningMean.value.data = [0.3, -0.2, 1]
        bn.runningVar.value.data = [2, 0.5, 1.5]
        #expect(try checkGradients(layer: bn, input: x, mode: .eval, maxEntries: 108).worst < 1e-2)
    }

    /// The fused ReLU must be exactly BatchNorm then ReLU: both directions, both modes, running
    /// statistics, against the two separate layers (each checked against finite differences above).
    @Test(arguments: [[3, 2, 3, 3], [2, 3, 4, 4], [2, 2, 5, 5]])
    func batchNormWithReLUEqualsBatchNormThenReLU(shape: [Int]) throws {
        var rng = SeededRNG(seed: 7)
        let c = shape[1]
        let x = Tensor.randomNormal(shape, std: 2, rng: &rng)
        let fused = BatchNorm2D(channels: c, name: "bn", relu: true)
        let plain = BatchNorm2D(channels: c, name: "bn"), relu = ReLU()
        for bn in [fused, plain] {
            for i in 0..<c { bn.gamma.value.data[i] = 0.5 + Float(i) * (i % 2 == 0 ? 1 : -1); bn.beta.value.data[i] = Float(i) - 0.7 }
        }
        for mode in [Mode.train, .eval] {
            let y = try fused.forward(x, mode: mode)
            let yRef = try relu.forward(try plain.forward(x, mode: mode), mode: mode)
            #expect(y.data.contains(0) && y.data.contains { $0 > 0 }, "both sides of the kink are exercised")
            expectClose(y.data, yRef.data, .relative(1e-5, floor: 1), "\(mode) y")
            #expect(fused.runningMean.value == plain.runningMean.value && fused.runningVar.value == plain.runningVar.value)
            let dy = Tensor.randomNormal(shape, rng: &rng)
            for bn in [fused, plain] { for p in bn.parameters { p.grad = Tensor(zeros: p.grad.shape) } }
            let dx = try fused.backward(dy, parameterGradients: true)
            let dxRef = try plain.backward(try relu.backward(dy, parameterGradients: true), parameterGradients: true)
            expectClose(dx.data, dxRef.data, .relative(1e-4, floor: 1), "\(mode) dx")
            for (p, q) in zip(fused.parameters, plain.parameters) {
                expectClose(p.grad.data, q.grad.data, .relative(1e-4, floor: 1), "\(mode) \(p.name)")
            }
        }
        try checkBackwardContract(layer: fused, input: x)
    }

    @Test func batchNormWithReLUKeepsNaN() throws {
        var x = Tensor(repeating: 1, shape: [2, 1, 3, 3])
        x.data[4] = .nan
        let y = try BatchNorm2D(channels: 1, name: "bn", relu: true).forward(x, mode: .eval)
        #expect(y.data[4].isNaN, "a diverging run must still show NaN")
    }

    @Test func batchNormStatisticsFollowPyTorchSemantics() throws {
        var rng = SeededRNG(seed: 5)
        let x = Tensor.randomNormal([5, 2, 2, 2], std: 3, rng: &rng)
        let bn = BatchNorm2D(channels: 2, name: "bn")
        let y = try bn.forward(x, mode: .train)
        for c in 0..<2 {
            var vals: [Double] = []
            for n in 0..<5 { for i in 0..<4 { vals.append(Double(x.data[(n * 2 + c) * 4 + i])) } }
            let m = vals.reduce(0, +) / 20
            let biased = vals.map { ($0 - m) * ($0 - m) }.reduce(0, +) / 20
            // Normalized output of the first element of the channel.
            expectClose(Double(y.data[c * 4]), (vals[0] - m) / (biased + 1e-5).squareRoot(), .absolute(1e-4))
            expectClose(Double(bn.runningMean.value.data[c]), 0.1 * m, .absolute(1e-5))
            expectClose(Double(bn.runningVar.value.data[c]), 0.9 + 0.1 * biased * 20 / 19, .absolute(1e-4))
        }
    }

    @Test func dropoutScalesKeptUnitsAndIsIdentityInEval() throws {
        var rng = SeededRNG(seed: 6)
        let x = Tensor.randomNormal([8, 500], rng: &rng)
        let d = Dropout(p: 0.25, seed: 1)
        let y = try d.forward(x, mode: .train)
        var zeros = 0
        for i in 0..<x.count {
            if y.data[i] == 0 { zeros += 1 } else { expectClose(y.data[i], x.data[i] / 0.75, .absolute(1e-6)) }
        }
        // 4000 Bernoulli(0.25) draws: mean 1000, sd ≈ 27.
        #expect(abs(zeros - 1000) < 150)
        let g = try d.backward(Tensor(repeating: 1, shape: x.shape), parameterGradients: false)
        for i in 0..<x.count { #expect(g.data[i] == (y.data[i] == 0 ? 0 : 1 / 0.75)) }
        #expect(try d.forward(x, mode: .eval) == x)
        let again = Dropout(p: 0.25, seed: 1)
        #expect(try again.forward(x, mode: .train) == y, "same seed, same mask")
    }

    @Test func normalizeAndFlatten() throws {
        let norm = try Normalize(mean: [0.5, 0.25], std: [0.5, 2])
        var rng = SeededRNG(seed: 7)
        let x = Tensor.randomUniform([2, 2, 3, 3], 0, 1, rng: &rng)
        let y = try norm.forward(x, mode: .eval)
        expectClose(y[1, 1, 2, 0], (x[1, 1, 2, 0] - 0.25) / 2, .absolute(1e-6))
        #expect(try checkGradients(layer: norm, input: x, mode: .eval).worst < 1e-2)
        let f = Flatten()
        #expect(try f.forward(x, mode: .eval).shape == [2, 18])
        #expect(try f.backward(Tensor(zeros: [2, 18]), parameterGradients: false).shape == [2, 2, 3, 3])
        #expect(throws: TensorError.self) { try Normalize(mean: [0], std: [0]) }
        #expect(throws: TensorError.self) { try norm.forward(Tensor(zeros: [1, 3, 2, 2]), mode: .eval) }
    }
}

/// Values spread at least 0.05 apart and away from 0, so ReLU/max kinks are never within eps (1e-2).
func kinkFreeInput(_ shape: [Int], seed: UInt64) -> Tensor {
    var rng = SeededRNG(seed: seed)
    let n = shape.reduce(1, *)
    let data = rng.permutation(n).map { Float($0 - n / 2) * 0.05 + 0.025 }
    return Tensor(uncheckedShape: shape, data: data)
}
