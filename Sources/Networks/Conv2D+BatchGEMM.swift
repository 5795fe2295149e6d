import TensorCore

extension Conv2D {
    /// Output maps with at most this many positions per image run forward and weight gradient as
    /// batch-wide GEMMs instead of oneDNN's kernels, which reach only 16–50 GFLOP/s on VGG's 2×2 and
    /// 4×4 layers (measured on VGG11: ~9% faster steps from the weight gradient alone; no gain from
    /// also moving the 8×8 layers).
    static let batchGEMMMaxPositions = 16

    /// `y = W · col + b` as ONE GEMM over the batch (`[O × C·k·k] · [C·k·k × N·H'·W']`), every image's
    /// im2col side by side; in training the columns stay valid for `batchedWeightGradient`.
    func batchedForward(_ x: Tensor, _ g: Geometry, into y: inout Tensor, keepColumns: Bool) {
        let n = x.shape[0], o = outChannels, p = g.cols, np = n * p
        fillBatchColumns(x, g)
        batchColumnsValid = keepColumns
        if batchProduct.count < o * np { batchProduct = [Float](repeating: 0, count: o * np) }
        let biasValues = bias?.value.data
        batchColumns.withUnsafeBufferPointer { cb in
        batchProduct.withUnsafeMutableBufferPointer { pb in
        y.data.withUnsafeMutableBufferPointer { yb in
        weight.value.data.withUnsafeBufferPointer { wb in
            // Non-empty (n > 0, every dimension positive).
            let pp = pb.baseAddress!, yp = yb.baseAddress!
            BLAS.teamGemm(m: o, n: np, k: g.rows, a: wb.baseAddress!, lda: g.rows, b: cb.baseAddress!, ldb: np, c: pp, ldc: np)
            Parallel.forChunks(n) { images in
                for img in images {
                    for oc in 0..<o {
                        let src = pp + oc * np + img * p, dst = yp + (img * o + oc) * p, b = biasValues?[oc] ?? 0
                        for j in 0..<p { dst[j] = src[j] + b }
                    }
                }
            }
        }}}}
    }

    /// Every image's im2col into `batchColumns` `[C·k·k × N·H'·W']`, images side by side.
    private func fillBatchColumns(_ x: Tensor, _ g: Geometry) {
        let n = x.shape[0], p = g.cols, np = n * p, inStride = g.c * g.h * g.w
        if batchColumns.count < g.rows * np { batchColumns = [Float](repeating: 0, count: g.rows * np) }
        x.data.withUnsafeBufferPointer { xb in
        batchColumns.withUnsafeMutableBufferPointer { cb in
            // Non-empty (n > 0, every dimension positive).
            let xp = xb.baseAddress!, cp = cb.baseAddress!
            Parallel.forChunks(n) { images in
                for img in images { Conv2D.im2col(xp + img * inStride, g, cp + img * p, rowStride: np) }
            }
        }}
    }

    /// `dW[O × C·k·k] += dyᵀ · col` as ONE GEMM over the whole batch (and `db += Σ dy`).
    ///
    /// Per image the product has inner size H'·W' (4 on a 2×2 map), far too small for a GEMM to run
    /// well; with every image's im2col side by side (`[C·k·k × N·H'·W']`) and `dy` regrouped to
    /// `[O × N·H'·W']`, the inner size is the whole batch and OpenBLAS runs at full speed.
    func batchedWeightGradient(x: Tensor, dy: Tensor, _ g: Geometry) {
        let n = x.shape[0], o = outChannels, p = g.cols, ckk = g.rows, np = n * p
        guard n > 0 else { return }
        if !batchColumnsValid { fillBatchColumns(x, g) }
        if batchProduct.count < o * np { batchProduct = [Float](repeating: 0, count: o * np) }
        dy.data.withUnsafeBufferPointer { dyb in
        batchColumns.withUnsafeBufferPointer { cb in
        batchProduct.withUnsafeMutableBufferPointer { rb in
            // Non-empty (n > 0, every dimension positive).
            let dyp = dyb.baseAddress!, cp = cb.baseAddress!, rp = rb.baseAddress!
            Parallel.forChunks(n) { images in
                for img in images {
                    for oc in 0..<o { (rp + oc * np + img * p).update(from: dyp + (img * o + oc) * p, count: p) }
                }
            }
            weight.grad.data.withUnsafeMutableBufferPointer { gw in
                BLAS.teamGemm(transB: true, m: o, n: ckk, k: np, a: rp, lda: np, b: cp, ldb: np, beta: 1, c: gw.baseAddress!, ldc: ckk)
            }
            bias?.grad.data.withUnsafeMutableBufferPointer { gb in
                for oc in 0..<o { gb[oc] += Float(Kernels.sum(rp + oc * np, count: np)) }
            }
        }}}
    }
}
