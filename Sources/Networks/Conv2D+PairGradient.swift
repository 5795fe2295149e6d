import TensorCore

extension Conv2D {
    /// Maps of at most this many positions (VGG's 2×2 and 1×1 layers) compute the weight gradient pair
    /// by pair when the convolution keeps their size (stride 1, "same" padding).
    static let pairGradientMaxPositions = 4

    /// Whether `pairWeightGradient` applies to this geometry.
    func usesPairWeightGradient(_ g: Geometry) -> Bool {
        g.s == 1 && g.oh == g.h && g.ow == g.w && g.cols <= Self.pairGradientMaxPositions
    }

    /// `dW += Σ_n dy ⋆ x` (and `db += Σ dy`) on tiny maps, one GEMM over the batch per pair of output and
    /// input position that a kernel tap connects: `dW[:, :, p, q] += dy[pos_out] · x[pos_in]ᵀ`
    /// (`[O × N] · [N × C]`).
    ///
    /// On a 2×2 map with padding 1 only 16 of the 36 (tap, position) products of im2col touch the
    /// image (the rest multiply padding zeros), so this does 2.25× fewer FLOPs than the batch-wide GEMM,
    /// without its 37 MB column matrix; each GEMM has inner size N (128), which BLAS runs well.
    func pairWeightGradient(x: Tensor, dy: Tensor, _ g: Geometry) {
        let n = x.shape[0], o = outChannels, c = g.c, p = g.cols, k = g.k, kk = k * k
        guard n > 0 else { return }
        // Position-major copies: xs[pos] = [C × N] in batchColumns, ds[pos] = [O × N] in batchProduct.
        if batchColumns.count < p * c * n { batchColumns = [Float](repeating: 0, count: p * c * n) }
        if batchProduct.count < p * o * n { batchProduct = [Float](repeating: 0, count: p * o * n) }
        // One [O × C] block per tap, overwritten by its first product (beta 0), so no zero-fill.
        var taps = [Float](unsafeUninitializedCapacity: kk * o * c) { _, count in count = kk * o * c }
        var written = [Bool](repeating: false, count: kk)
        x.data.withUnsafeBufferPointer { xb in
        dy.data.withUnsafeBufferPointer { db in
        batchColumns.withUnsafeMutableBufferPointer { xsb in
        batchProduct.withUnsafeMutableBufferPointer { dsb in
        taps.withUnsafeMutableBufferPointer { tb in
            // Non-empty (n > 0, every dimension positive).
            let xp = xb.baseAddress!, dyp = db.baseAddress!, xs = xsb.baseAddress!, ds = dsb.baseAddress!, tp = tb.baseAddress!
            Parallel.forChunks(n) { images in
                for img in images {
                    for ch in 0..<c { for pos in 0..<p { xs[(pos * c + ch) * n + img] = xp[(img * c + ch) * p + pos] } }
                    for oc in 0..<o { for pos in 0..<p { ds[(pos * o + oc) * n + img] = dyp[(img * o + oc) * p + pos] } }
                }
            }
            for oi in 0..<g.oh {
                for oj in 0..<g.ow {
                    let out = oi * g.ow + oj
                    for tap in 0..<kk {
                        let ii = oi + tap / k - g.pad, jj = oj + tap % k - g.pad
                        guard ii >= 0, ii < g.h, jj >= 0, jj < g.w else { continue }
                        BLAS.teamGemm(transB: true, m: o, n: c, k: n, a: ds + out * o * n, lda: n,
                                      b: xs + (ii * g.w + jj) * c * n, ldb: n, beta: written[tap] ? 1 : 0,
                                      c: tp + tap * o * c, ldc: c)
                        written[tap] = true
                    }
                }
            }
            let done = written
            weight.grad.data.withUnsafeMutableBufferPointer { gw in
                let gp = gw.baseAddress!
                Parallel.forChunks(o) { rows in
                    for oc in rows {
                        for tap in 0..<kk where done[tap] {
                            let src = tp + (tap * o + oc) * c, dst = gp + oc * c * kk + tap
                            for ch in 0..<c { dst[ch * kk] += src[ch] }
                        }
                    }
                }
            }
            bias?.grad.data.withUnsafeMutableBufferPointer { gb in
                for oc in 0..<o {
                    var s = 0.0
                    for pos in 0..<p { s += Kernels.sum(ds + (pos * o + oc) * n, count: n) }
                    gb[oc] += Float(s)
                }
            }
        }}}}}
    }
}
