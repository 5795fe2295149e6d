import TensorCore

/// Tiny "same" maps (VGG's 2×2) as one dense matrix product per pass.
///
/// On an `H×W` map of `P = H·W ≤ 4` positions the convolution is a linear map from `[C·P]` to
/// `[O·P]`: the unrolled matrix `Mt[(o,p)][(c,q)] = W[o, c, tap(p,q)]` (0 where no kernel tap takes
/// output position `p` to input position `q`). NCHW tensors already are row-major `[N][(c,q)]` and
/// `[N][(o,p)]` matrices, so with no transposes:
/// - forward `Y = X · Mtᵀ` (+ bias),
/// - input gradient `dX = dY · Mt`,
/// - weight gradient `dMt = dYᵀ · X` (inner size N), folded back onto the taps.
///
/// Of the 36 (tap, position) products per channel pair on a 2×2 map only 16 touch the image; im2col and
/// oneDNN's direct kernels multiply the padding zeros too (56–73% of the FMA peak on the nominal count),
/// the unrolled products skip them and run at BLAS speed with inner sizes C·P, O·P or N.
extension Conv2D {
    /// Maps of at most this many positions (VGG's 2×2 and 1×1) take the unrolled path when the
    /// convolution keeps their size (stride 1, "same" padding); from 3×3 maps on Mt has as many
    /// entries per channel pair (P²) as im2col does products (9·P), or more.
    static let unrolledMaxPositions = 4

    /// Whether all three passes of this geometry run through the unrolled matrix (on the accelerated backends).
    func usesUnrolledWeights(_ g: Geometry) -> Bool {
        g.s == 1 && g.oh == g.h && g.ow == g.w && g.cols <= Self.unrolledMaxPositions
    }

    /// `taps[p·P + q]`: the kernel tap `i·k + j` taking output position `p` to input position `q`, −1 for
    /// none (output and input share the map size on this path).
    static func unrolledTaps(_ g: Geometry) -> [Int] {
        let positions = g.cols
        var taps = [Int](repeating: -1, count: positions * positions)
        for p in 0..<positions {
            for q in 0..<positions {
                let i = q / g.w - p / g.ow + g.pad, j = q % g.w - p % g.ow + g.pad
                if i >= 0, i < g.k, j >= 0, j < g.k { taps[p * positions + q] = i * g.k + j }
            }
        }
        return taps
    }

    /// `y = x · Mtᵀ + b` for an `n > 0` batch; builds Mt from the current weight and keeps it in
    /// `workspace.unrolled`, so the backward differentiates exactly this product.
    func forwardUnrolled(_ x: Tensor, _ g: Geometry, into y: inout Tensor) {
        fillUnrolledMatrix(g)
        let n = x.shape[0], op = outChannels * g.cols, cp = g.c * g.cols
        let biasValues = bias?.value.data
        x.data.withUnsafeBufferPointer { xb in
        workspace.unrolled.withUnsafeBufferPointer { mb in
        y.data.withUnsafeMutableBufferPointer { yb in
            // Non-empty (n > 0, every dimension positive).
            let xp = xb.baseAddress!, mp = mb.baseAddress!, yp = yb.baseAddress!
            if let biasValues {
                // Bias rows first, then the product added onto them (beta 1).
                for oc in 0..<outChannels {
                    for p in 0..<g.cols { yp[oc * g.cols + p] = biasValues[oc] }
                }
                for img in 1..<n { (yp + img * op).update(from: yp, count: op) }
            }
            BLAS.teamGemm(transB: true, m: n, n: op, k: cp, a: xp, lda: cp, b: mp, ldb: cp,
                          beta: biasValues == nil ? 0 : 1, c: yp, ldc: op)
        }}}
    }

    /// Writes `Mt [(O·P) × (C·P)]` into `workspace.unrolled` (grown once, kept across steps): per output
    /// channel, its weight row is read once and its P rows of Mt are written front to back.
    private func fillUnrolledMatrix(_ g: Geometry) {
        let o = outChannels, c = g.c, positions = g.cols, kk = g.k * g.k, rowLength = c * positions
        Workspace.grow(&workspace.unrolled, to: o * positions * rowLength)
        let taps = Self.unrolledTaps(g)
        weight.value.data.withUnsafeBufferPointer { wb in
        workspace.unrolled.withUnsafeMutableBufferPointer { mb in
        taps.withUnsafeBufferPointer { tb in
            let wp = wb.baseAddress!, mp = mb.baseAddress!, tp = tb.baseAddress!  // non-empty
            Parallel.forChunks(o) { channels in
                for oc in channels {
                    let w = wp + oc * c * kk, rows = mp + oc * positions * rowLength
                    if Self.isThreeByThreeOnTwoByTwo(g) {
                        Self.fillRows2x2(weights: w, rows: rows, channels: c)
                    } else {
                        Self.fillRows(weights: w, rows: rows, g, taps: tp)
                    }
                }
            }
        }}}
    }

    /// VGG's case, a 3×3 kernel on a 2×2 "same" map, has its tap table written out in `fillRows2x2` and
    /// `foldRows2x2`: the table-driven loops, with their indirect loads, took 5 ms (fill) and 9 ms (fold)
    /// per 512→512 pass on one thread, the written-out ones 3.7 ms (a 16 MB copy's time) and 3 ms.
    static func isThreeByThreeOnTwoByTwo(_ g: Geometry) -> Bool { g.k == 3 && g.pad == 1 && g.h == 2 && g.w == 2 }

    /// One output channel's P rows of Mt from its weight row `w [C × k·k]`, following the tap table.
    static func fillRows(weights w: UnsafePointer<Float>, rows: UnsafeMutablePointer<Float>, _ g: Geometry, taps: UnsafePointer<Int>) {
        let positions = g.cols, rowLength = g.c * positions, kk = g.k * g.k
        for ch in 0..<g.c {
            let wc = w + ch * kk
            for p in 0..<positions {
                let dst = rows + p * rowLength + ch * positions, t = taps + p * positions
                for q in 0..<positions { dst[q] = t[q] >= 0 ? wc[t[q]] : 0 }
            }
        }
    }

    /// `fillRows` of a 3×3 kernel on a 2×2 map: row p gets, per channel, the taps of `unrolledTaps`' row p.
    static func fillRows2x2(weights w: UnsafePointer<Float>, rows: UnsafeMutablePointer<Float>, channels c: Int) {
        let r0 = rows, r1 = r0 + 4 * c, r2 = r1 + 4 * c, r3 = r2 + 4 * c
        for ch in 0..<c {
            let t = w + ch * 9, j = 4 * ch
            r0[j] = t[4]; r0[j + 1] = t[5]; r0[j + 2] = t[7]; r0[j + 3] = t[8]
            r1[j] = t[3]; r1[j + 1] = t[4]; r1[j + 2] = t[6]; r1[j + 3] = t[7]
            r2[j] = t[1]; r2[j + 1] = t[2]; r2[j + 2] = t[4]; r2[j + 3] = t[5]
            r3[j] = t[0]; r3[j + 1] = t[1]; r3[j + 2] = t[3]; r3[j + 3] = t[4]
        }
    }

    /// Adds one output channel's P rows of dMt onto its weight gradient row `dw [C × k·k]`, each entry
    /// onto the tap that connects its position pair (the adjoint of `fillRows`).
    static func foldRows(_ rows: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>, _ g: Geometry, taps: UnsafePointer<Int>) {
        let positions = g.cols, rowLength = g.c * positions, kk = g.k * g.k
        for p in 0..<positions {
            let row = rows + p * rowLength, t = taps + p * positions
            for ch in 0..<g.c {
                let dst = dw + ch * kk, src = row + ch * positions
                for q in 0..<positions where t[q] >= 0 { dst[t[q]] += src[q] }
            }
        }
    }

    /// `foldRows` of a 3×3 kernel on a 2×2 map: each tap sums the entries `fillRows2x2` copied it to.
    static func foldRows2x2(_ rows: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>, channels c: Int) {
        let r0 = rows, r1 = r0 + 4 * c, r2 = r1 + 4 * c, r3 = r2 + 4 * c
        for ch in 0..<c {
            let d = dw + ch * 9, j = 4 * ch
            d[0] += r3[j]
            d[1] += r2[j] + r3[j + 1]
            d[2] += r2[j + 1]
            d[3] += r1[j] + r3[j + 2]
            d[4] += r0[j] + r1[j + 1] + r2[j + 2] + r3[j + 3]
            d[5] += r0[j + 1] + r2[j + 3]
            d[6] += r1[j + 2]
            d[7] += r0[j + 2] + r1[j + 3]
            d[8] += r0[j + 3]
        }
    }

    /// The backward of an unrolled forward: products with the forward's Mt, `dx` (when non-nil) overwritten,
    /// dW and db added when `weights`.
    func backwardUnrolled(x: Tensor, dy: Tensor, _ g: Geometry, dx: inout Tensor?, weights: Bool) {
        if weights { weightGradientUnrolled(x: x, dy: dy, g) }
        guard var gradient = dx else { return }
        dx = nil  // unique buffer for the product
        inputGradientUnrolled(dy, g, into: &gradient)
        dx = gradient
    }

    /// `inputGradients(_:copies:)` after an unrolled forward: the copies are just more rows of one product.
    func inputGradientsUnrolled(_ dy: Tensor, copies: Int) throws -> Tensor {
        guard let x = cachedInput else {
            throw TensorError(.invalidArgument, "\(name) (Conv2D): input gradients asked before a forward pass")
        }
        let n = x.shape[0], g = try geometry(x)
        try dy.expectShape([copies * n, outChannels, g.oh, g.ow], "\(name) (Conv2D) output gradients (\(copies) copies)")
        var dx = Tensor(uninitialized: [copies * n] + x.shape.dropFirst())
        if copies * n > 0 { inputGradientUnrolled(dy, g, into: &dx) }
        return dx
    }

    /// `dx = dy · Mt` for every row of a non-empty `dy` (images, or images of several copies).
    private func inputGradientUnrolled(_ dy: Tensor, _ g: Geometry, into dx: inout Tensor) {
        let rows = dy.shape[0], op = outChannels * g.cols, cp = g.c * g.cols
        dy.data.withUnsafeBufferPointer { db in
        workspace.unrolled.withUnsafeBufferPointer { mb in
        dx.data.withUnsafeMutableBufferPointer { xb in
            BLAS.teamGemm(m: rows, n: cp, k: op, a: db.baseAddress!, lda: op, b: mb.baseAddress!, ldb: cp,
                          c: xb.baseAddress!, ldc: cp)
        }}}
    }

    /// `dMt = dyᵀ · x` as one GEMM of inner size N (into `workspace.product`), each entry then added to the
    /// weight tap that connects its position pair; `db += Σ dy`.
    private func weightGradientUnrolled(x: Tensor, dy: Tensor, _ g: Geometry) {
        let n = x.shape[0], o = outChannels, c = g.c, positions = g.cols, kk = g.k * g.k
        let op = o * positions, cp = c * positions
        Workspace.grow(&workspace.product, to: op * cp)
        let taps = Self.unrolledTaps(g)
        x.data.withUnsafeBufferPointer { xb in
        dy.data.withUnsafeBufferPointer { db in
        workspace.product.withUnsafeMutableBufferPointer { rb in
        taps.withUnsafeBufferPointer { tb in
            // Non-empty (n > 0, every dimension positive).
            let xp = xb.baseAddress!, dyp = db.baseAddress!, dM = rb.baseAddress!, tp = tb.baseAddress!
            BLAS.teamGemm(transA: true, m: op, n: cp, k: n, a: dyp, lda: op, b: xp, ldb: cp, c: dM, ldc: cp)
            weight.grad.data.withUnsafeMutableBufferPointer { gw in
                let gp = gw.baseAddress!
                Parallel.forChunks(o) { channels in
                    for oc in channels {
                        let rows = dM + oc * positions * cp, dw = gp + oc * c * kk
                        if Self.isThreeByThreeOnTwoByTwo(g) {
                            Self.foldRows2x2(rows, into: dw, channels: c)
                        } else {
                            Self.foldRows(rows, into: dw, g, taps: tp)
                        }
                    }
                }
            }
            bias?.grad.data.withUnsafeMutableBufferPointer { gb in
                var sums = [Double](repeating: 0, count: op)
                for img in 0..<n {
                    let row = dyp + img * op
                    for j in 0..<op { sums[j] += Double(row[j]) }
                }
                for oc in 0..<o {
                    var s = 0.0
                    for p in 0..<positions { s += sums[oc * positions + p] }
                    gb[oc] += Float(s)
                }
            }
        }}}}
    }
}
