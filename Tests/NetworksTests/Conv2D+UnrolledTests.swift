import Testing
import TensorCore
@testable import Networks
import TestSupport
import Trials

/// The unrolled-matrix path of tiny "same" maps (all three passes) against the im2col oracle and the
/// naive loop. It needs no oneDNN, so it runs in every build: the oneDNN backends select it.
@Suite struct Conv2DUnrolledTests {
    /// 2×2 (every position pair connected), 1×1 (only the centre tap), 1×3 and 2×1 (some pairs unconnected).
    static let cases: [ConvCase] = [
        ConvCase(n: 3, c: 5, o: 4, h: 2, w: 2, k: 3, stride: 1, padding: 1, bias: true),
        ConvCase(n: 2, c: 3, o: 6, h: 1, w: 1, k: 3, stride: 1, padding: 1, bias: false),
        ConvCase(n: 4, c: 2, o: 3, h: 1, w: 3, k: 3, stride: 1, padding: 1, bias: true),
        ConvCase(n: 2, c: 4, o: 2, h: 2, w: 1, k: 3, stride: 1, padding: 1, bias: false),
    ]

    /// Two identical layers (same seed): one on a oneDNN backend (the unrolled path on tiny maps), one on
    /// im2col as the oracle, and the input.
    static func layerAndOracle(_ t: ConvCase, seed: UInt64) throws -> (Conv2D, Conv2D, Tensor) {
        let (layer, x) = try Conv2DTests.make(t, seed: seed)
        let (oracle, _) = try Conv2DTests.make(t, seed: seed)
        layer.backend = .onednn
        oracle.backend = .im2col
        return (layer, oracle, x)
    }

    /// Entries agree to 1e-4 of the larger of 1 and the reference's largest magnitude.
    static let tolerance = Tolerance.relativeToLargest(1e-4, floor: 1)

    @Test("which geometries take the unrolled path: stride 1, same size, at most 4 positions")
    func geometryCondition() throws {
        var rng = SeededRNG(seed: 1)
        let same = try Conv2D(inChannels: 2, outChannels: 2, kernel: 3, padding: 1, name: "c", rng: &rng)
        let valid = try Conv2D(inChannels: 2, outChannels: 2, kernel: 3, padding: 0, name: "c", rng: &rng)
        let strided = try Conv2D(inChannels: 2, outChannels: 2, kernel: 3, stride: 2, padding: 1, name: "c", rng: &rng)
        func uses(_ layer: Conv2D, _ h: Int, _ w: Int) throws -> Bool {
            layer.usesUnrolledWeights(try layer.geometry(Tensor(zeros: [1, 2, h, w])))
        }
        #expect(try uses(same, 2, 2) && uses(same, 1, 1) && uses(same, 1, 3) && uses(same, 4, 1))
        #expect(try !uses(same, 4, 4) && !uses(same, 2, 3) && !uses(valid, 3, 3) && !uses(strided, 2, 2))
    }

    @Test("tap table: on 2×2 every pair is connected, on 1×3 the two ends are not")
    func taps() {
        let square = Conv2D.Geometry(c: 1, h: 2, w: 2, k: 3, s: 1, pad: 1, oh: 2, ow: 2)
        // Output (0,0) sees input (i,j) through tap (i+1, j+1); output (1,1) through tap (i, j).
        #expect(Conv2D.unrolledTaps(square) == [4, 5, 7, 8, 3, 4, 6, 7, 1, 2, 4, 5, 0, 1, 3, 4])
        let row = Conv2D.Geometry(c: 1, h: 1, w: 3, k: 3, s: 1, pad: 1, oh: 1, ow: 3)
        #expect(Conv2D.unrolledTaps(row) == [4, 5, -1, 3, 4, 5, -1, 3, 4])
    }

    @Test("the written-out 2×2 fill and fold equal the table-driven ones")
    func twoByTwoMatchesTable() {
        let c = 3, g = Conv2D.Geometry(c: c, h: 2, w: 2, k: 3, s: 1, pad: 1, oh: 2, ow: 2)
        #expect(Conv2D.isThreeByThreeOnTwoByTwo(g))
        var rng = SeededRNG(seed: 71)
        let w = Tensor.randomNormal([c * 9], rng: &rng), rows = Tensor.randomNormal([4 * c * 4], rng: &rng)
        let start = Tensor.randomNormal([c * 9], rng: &rng)
        let taps = Conv2D.unrolledTaps(g)
        var table = [Float](repeating: .nan, count: 4 * c * 4), written = table
        var foldTable = start.data, foldWritten = start.data
        w.data.withUnsafeBufferPointer { wp in
        rows.data.withUnsafeBufferPointer { rp in
        taps.withUnsafeBufferPointer { tp in
            table.withUnsafeMutableBufferPointer { Conv2D.fillRows(weights: wp.baseAddress!, rows: $0.baseAddress!, g, taps: tp.baseAddress!) }
            written.withUnsafeMutableBufferPointer { Conv2D.fillRows2x2(weights: wp.baseAddress!, rows: $0.baseAddress!, channels: c) }
            foldTable.withUnsafeMutableBufferPointer { Conv2D.foldRows(rp.baseAddress!, into: $0.baseAddress!, g, taps: tp.baseAddress!) }
            foldWritten.withUnsafeMutableBufferPointer { Conv2D.foldRows2x2(rp.baseAddress!, into: $0.baseAddress!, channels: c) }
        }}}
        #expect(written == table)
        expectClose(foldWritten, foldTable, .absolute(1e-5), "dw")
    }

    @Test("forward, input gradient and added weight and bias gradients equal im2col's (and the naive forward)",
          arguments: cases)
    func matchesIm2col(_ t: ConvCase) throws {
        let (layer, oracle, x) = try Self.layerAndOracle(t, seed: 31)
        let y = try layer.forward(x, mode: .train), yRef = try oracle.forward(x, mode: .train)
        #expect(layer.lastPlan?.forward == .unrolled && oracle.lastPlan?.forward == .im2col)
        expectClose(y.data, yRef.data, Self.tolerance, "\(t) forward")
        let naive = try Conv2D.referenceForward(x, weight: layer.weight.value, bias: layer.bias?.value, stride: 1, padding: 1)
        expectClose(y.data, naive.data, Self.tolerance, "\(t) forward vs naive")

        var rng = SeededRNG(seed: 32)
        let dy = Tensor.randomNormal(y.shape, rng: &rng)
        // Non-zero starting gradients: the Layer contract is to add.
        let offsets = layer.parameters.map { Tensor.randomNormal($0.grad.shape, rng: &rng) }
        for (p, o) in zip(layer.parameters, offsets) { p.grad = o }
        let dx = try layer.backward(dy, parameterGradients: true), dxRef = try oracle.backward(dy, parameterGradients: true)
        expectClose(dx.data, dxRef.data, Self.tolerance, "\(t) input gradient")
        for ((p, o), q) in zip(zip(layer.parameters, offsets), oracle.parameters) {
            let added = try Tensor(shape: p.grad.shape, data: zip(p.grad.data, o.data).map { $0 - $1 })
            expectClose(added.data, q.grad.data, Self.tolerance, "\(t) \(p.name)")
        }

        // Input gradient alone leaves the parameter gradients as they are.
        let before = layer.parameters.map(\.grad)
        expectClose(try layer.backward(dy, parameterGradients: false).data, dxRef.data, Self.tolerance, "\(t) input gradient alone")
        for (p, b) in zip(layer.parameters, before) { #expect(p.grad == b, "\(t) \(p.name)") }
    }

    @Test("the backward differentiates the forward's matrix, even if the weight changed in between")
    func backwardUsesForwardMatrix() throws {
        let t = ConvCase(n: 3, c: 4, o: 5, h: 2, w: 2, k: 3, stride: 1, padding: 1, bias: true)
        let (layer, oracle, x) = try Self.layerAndOracle(t, seed: 41)
        var rng = SeededRNG(seed: 42)
        let y = try layer.forward(x, mode: .train)
        _ = try oracle.forward(x, mode: .train)
        layer.weight.value = Tensor.randomNormal(layer.weight.value.shape, rng: &rng)  // after the forward
        let dy = Tensor.randomNormal(y.shape, rng: &rng)
        expectClose(try layer.backward(dy, parameterGradients: false).data, try oracle.backward(dy, parameterGradients: false).data,
                    Self.tolerance, "input gradient of the forward's weights")
        // The next forward builds the matrix of the new weights.
        let y2 = try layer.forward(x, mode: .train)
        let y2Ref = try Conv2D.referenceForward(x, weight: layer.weight.value, bias: layer.bias?.value, stride: 1, padding: 1)
        expectClose(y2.data, y2Ref.data, Self.tolerance, "forward with the new weights")
    }

    @Test("a geometry change (evaluation batch, then a larger map) switches paths and keeps gradients right")
    func geometryChanges() throws {
        let t = ConvCase(n: 4, c: 3, o: 2, h: 2, w: 2, k: 3, stride: 1, padding: 1, bias: true)
        let (layer, oracle, _) = try Self.layerAndOracle(t, seed: 51)
        var rng = SeededRNG(seed: 52)
        for shape in [[4, 3, 2, 2], [2, 3, 2, 2], [2, 3, 4, 4], [4, 3, 1, 1]] {
            let x = Tensor.randomNormal(shape, rng: &rng)
            let y = try layer.forward(x, mode: .eval)
            expectClose(y.data, try oracle.forward(x, mode: .eval).data, Self.tolerance, "\(shape) forward")
            #expect((layer.lastPlan?.forward == .unrolled) == (shape[2] * shape[3] <= 4), "\(shape)")
            let dy = Tensor.randomNormal(y.shape, rng: &rng)
            expectClose(try layer.backward(dy, parameterGradients: false).data, try oracle.backward(dy, parameterGradients: false).data,
                        Self.tolerance, "\(shape) input gradient")
        }
    }

    @Test("input gradients of several copies equal one im2col backward per copy (dense: one product; sparse: the sparse path)",
          arguments: [cases[0], cases[2]], [false, true])
    func batchedCopies(_ t: ConvCase, sparse: Bool) throws {
        let (layer, oracle, x) = try Self.layerAndOracle(t, seed: 61)
        _ = try layer.forward(x, mode: .eval)
        _ = try oracle.forward(x, mode: .eval)
        var rng = SeededRNG(seed: 62)
        let copies = 3
        var dy = Tensor.randomNormal([copies * t.n, t.o, t.h, t.w], rng: &rng)
        if sparse { for i in 0..<dy.count where i % 7 != 0 { dy.data[i] = 0 } }
        #expect((Conv2D.nonzeroFraction(dy) <= Conv2D.sparseDensityLimit) == sparse)
        let dx = try layer.inputGradients(dy, copies: copies)
        #expect(dx.shape == [copies * t.n, t.c, t.h, t.w])
        for k in 0..<copies {
            let rows = (k * t.n)..<((k + 1) * t.n)
            expectClose(dx.rows(rows).data, try oracle.backward(dy.rows(rows), parameterGradients: false).data, Self.tolerance, "\(t) copy \(k)")
        }
    }
}
