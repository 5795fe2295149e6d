import TensorCore

extension Conv2D {
    /// Output maps with at most this many positions per image compute the weight gradient as one
    /// batch-wide GEMM instead of oneDNN's kernel, which runs at 56–131 GFLOP/s on VGG's 2×2 and 4×4
    /// layers on 2 threads (the GEMM route: 100–150). Their forward and input gradient stay on oneDNN
    /// (170–220 GFLOP/s there, against ~100 for a batch-wide GEMM forward).
    static let batchGEMMMaxPositions = 16

    /// Every image's im2col into `workspace.columns` `[C·k·k × N·H'·W']`, images side by side.
    private func fillBatchColumns(_ x: Tensor, _ g: Geometry) {
        let n = x.shape[0], p = g.cols, np = n * p, inStride = g.c * g.h * g.w
        Workspace.grow(&workspace.columns, to: g.rows * np)
        x.data.withUnsafeBufferPointer { xb in
        workspace.columns.withUnsafeMutableBufferPointer { cb in
            // Non-empty (n > 0, every dimension positive).
            let xp = xb.baseAddress!, cp = cb.baseAddress!
            guard g.s == 1 else {
                Parallel.forChunks(n) { images in
                    for img in images { Conv2D.im2col(xp + img * inStride, g, cp + img * p, rowStride: np) }
                }
                return
            }
            // Channel-major: each thread fills whole rows (all images side by side) of its channels.
            // Image-major filling wrote one short segment into each of C·k·k rows np floats apart, a new
            // page per store; the TLB misses made it ~1 GB/s.
            let plane = g.h * g.w, kk = g.k * g.k
            Parallel.forChunks(g.c) { channels in
                Conv2D.withChannelTile(g) { tile in
                    for c in channels {
                        for img in 0..<n {
                            Conv2D.unfoldChannel(xp + img * inStride + c * plane, g, tile: tile,
                                                 cp + c * kk * np + img * p, rowStride: np)
                        }
                    }
                }
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
        fillBatchColumns(x, g)
        Workspace.grow(&workspace.product, to: o * np)
        dy.data.withUnsafeBufferPointer { dyb in
        workspace.columns.withUnsafeBufferPointer { cb in
        workspace.product.withUnsafeMutableBufferPointer { rb in
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
