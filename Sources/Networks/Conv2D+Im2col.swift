import TensorCore

/// The im2col path: per image, the input unfolded into `col [C·k·k × H'·W']` and one OpenBLAS product per pass
/// (`y = W · col`, `dW += dy · colᵀ`, `dx = col2im(Wᵀ · dy)`). Any geometry; the portable path and the oracle of
/// the faster ones. Images are split over `min(threads, N)` fixed chunks, BLAS serial in each.
extension Conv2D {
    /// `y = W · im2col(x) + b` per image.
    func forwardIm2col(_ x: Tensor, _ g: Geometry, into y: inout Tensor) {
        let n = x.shape[0], chunks = min(Parallel.threads, n)
        let o = outChannels, ckk = g.rows, p = g.cols
        let inStride = g.c * g.h * g.w, outStride = o * p
        let biasValues = bias?.value.data
        x.data.withUnsafeBufferPointer { xb in
        weight.value.data.withUnsafeBufferPointer { wb in
        y.data.withUnsafeMutableBufferPointer { yb in
        workspace.scratch(chunks * g.colCount) { sp in
            // Non-empty buffers (n > 0, every dimension positive), so base addresses exist.
            let xp = xb.baseAddress!, wp = wb.baseAddress!, yp = yb.baseAddress!
            withSerialBLAS(chunks > 1) { Parallel.forChunks(chunks) { range in
                for chunk in range {
                    let col = sp + chunk * g.colCount
                    for img in (n * chunk / chunks)..<(n * (chunk + 1) / chunks) {
                        Conv2D.im2col(xp + img * inStride, g, col)
                        let yi = yp + img * outStride
                        // y_img[O×P] = W[O×CKK] · col[CKK×P]
                        BLAS.gemm(m: o, n: p, k: ckk, a: wp, lda: ckk, b: col, ldb: p, c: yi, ldc: p)
                        if let biasValues {
                            for oc in 0..<o {
                                let row = yi + oc * p, b = biasValues[oc]
                                for j in 0..<p { row[j] += b }
                            }
                        }
                    }
                }
            }}
        }}}}
    }

    /// The im2col backward: `dx` (when non-nil, overwritten) and, when `weights`, dW and db added. Per chunk of
    /// images the scratch holds col and dcol, then a partial dW `[O×CKK]` and db `[O]` summed in chunk order.
    func backwardIm2col(x: Tensor, dy: Tensor, _ g: Geometry, dx: inout Tensor?, weights: Bool) {
        let n = x.shape[0], chunks = min(Parallel.threads, n)
        let wCount = outChannels * g.rows, perChunk = 2 * g.colCount + (weights ? wCount + outChannels : 0)
        if dx != nil { dx = Tensor(zeros: x.shape) }  // col2im adds
        var gradient = dx ?? Tensor(zeros: [0])
        x.data.withUnsafeBufferPointer { xb in
        dy.data.withUnsafeBufferPointer { dyb in
        weight.value.data.withUnsafeBufferPointer { wb in
        gradient.data.withUnsafeMutableBufferPointer { dxb in
        workspace.scratch(chunks * perChunk) { sp in
            // Non-empty buffers (n > 0, every dimension positive); dx is empty without input gradient.
            let xp = xb.baseAddress!, dyp = dyb.baseAddress!, wp = wb.baseAddress!, dxp = dx == nil ? nil : dxb.baseAddress
            withSerialBLAS(chunks > 1) { Parallel.forChunks(chunks) { range in
                for chunk in range {
                    let base = sp + chunk * perChunk
                    if weights { (base + 2 * g.colCount).initialize(repeating: 0, count: wCount + outChannels) }
                    for img in (n * chunk / chunks)..<(n * (chunk + 1) / chunks) {
                        im2colImageBackward(x: xp, dy: dyp, w: wp, image: img, g, scratch: base, weights: weights, dx: dxp)
                    }
                }
            }}
            if weights { addChunkPartials(sp, chunks: chunks, stride: perChunk, offset: 2 * g.colCount) }
        }}}}}
        if dx != nil { dx = gradient }
    }

    /// One image of `backwardIm2col`: `dW += dy · colᵀ`, `db += Σ dy` (into the chunk's partials after col and
    /// dcol in `scratch`) when `weights`; `dx_img += col2im(Wᵀ · dy)` when `dx` is non-nil.
    private func im2colImageBackward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, w: UnsafePointer<Float>, image img: Int,
                                     _ g: Geometry, scratch: UnsafeMutablePointer<Float>, weights: Bool,
                                     dx: UnsafeMutablePointer<Float>?) {
        let o = outChannels, p = g.cols, inStride = g.c * g.h * g.w
        let col = scratch, dcol = scratch + g.colCount, dW = scratch + 2 * g.colCount, dB = dW + o * g.rows
        let dyi = dy + img * o * p
        if weights {
            Conv2D.im2col(x + img * inStride, g, col)
            // dW[O×CKK] += dy_img[O×P] · colᵀ[P×CKK]
            BLAS.gemm(transB: true, m: o, n: g.rows, k: p, a: dyi, lda: p, b: col, ldb: p, beta: 1, c: dW, ldc: g.rows)
            if bias != nil {
                for oc in 0..<o { dB[oc] += Float(Kernels.sum(dyi + oc * p, count: p)) }
            }
        }
        if let dx { Conv2D.addInputGradient(weights: w, outChannels: o, dyi, g, columns: dcol, into: dx + img * inStride) }
    }

    /// Adds the per-chunk partial dW `[O×CKK]` and db `[O]` (at `offset` in each chunk's `stride` floats) to the
    /// parameter gradients, in chunk order.
    private func addChunkPartials(_ scratch: UnsafeMutablePointer<Float>, chunks: Int, stride: Int, offset: Int) {
        let wCount = weight.value.count
        weight.grad.data.withUnsafeMutableBufferPointer { gw in
            for chunk in 0..<chunks {
                let part = scratch + chunk * stride + offset
                for i in 0..<wCount { gw[i] += part[i] }
            }
        }
        bias?.grad.data.withUnsafeMutableBufferPointer { gb in
            for chunk in 0..<chunks {
                let part = scratch + chunk * stride + offset + wCount
                for i in 0..<outChannels { gb[i] += part[i] }
            }
        }
    }

    /// Unfolds one image `[C, H, W]` into `col[(c·k + p)·k + q, i·W' + j] = x[c, s·i+p−pad, s·j+q−pad]` (0 outside);
    /// rows are `rowStride` apart (default: packed), so several images can fill one wide matrix.
    static func im2col(_ x: UnsafePointer<Float>, _ g: Geometry, _ col: UnsafeMutablePointer<Float>, rowStride: Int? = nil) {
        let rowStride = rowStride ?? g.cols
        if g.s == 1 { return im2colStride1(x, g, col, rowStride: rowStride) }
        var row = 0
        for c in 0..<g.c {
            for p in 0..<g.k {
                for q in 0..<g.k {
                    let dst = col + row * rowStride
                    for i in 0..<g.oh {
                        let d = dst + i * g.ow
                        let iy = i * g.s + p - g.pad
                        if iy < 0 || iy >= g.h {
                            d.update(repeating: 0, count: g.ow)
                            continue
                        }
                        let src = x + (c * g.h + iy) * g.w
                        if g.s == 1 && q - g.pad >= 0 && g.ow - 1 + q - g.pad < g.w {
                            d.update(from: src + (q - g.pad), count: g.ow)  // interior row: one copy
                        } else {
                            for j in 0..<g.ow {
                                let ix = j * g.s + q - g.pad
                                d[j] = (ix >= 0 && ix < g.w) ? src[ix] : 0
                            }
                        }
                    }
                    row += 1
                }
            }
        }
    }

    /// `im2col` for stride 1, one channel at a time through `unfoldChannel`.
    private static func im2colStride1(_ x: UnsafePointer<Float>, _ g: Geometry, _ col: UnsafeMutablePointer<Float>, rowStride: Int) {
        withChannelTile(g) { tile in
            for c in 0..<g.c {
                unfoldChannel(x + c * g.h * g.w, g, tile: tile, col + c * g.k * g.k * rowStride, rowStride: rowStride)
            }
        }
    }

    /// Runs `body` with a zeroed scratch tile of one padded channel, `(H + 2·pad) × (W + 2·pad)`.
    static func withChannelTile(_ g: Geometry, _ body: (UnsafeMutablePointer<Float>) -> Void) {
        let count = (g.h + 2 * g.pad) * (g.w + 2 * g.pad)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: count) { tile in
            let t = tile.baseAddress!  // count ≥ k² > 0
            t.initialize(repeating: 0, count: count)
            body(t)
        }
    }

    /// One channel's k·k im2col rows for stride 1: the channel is copied into the interior of the
    /// zero-bordered `tile` (its border must be zero), so every kernel offset is plain row copies
    /// without bounds checks.
    static func unfoldChannel(_ src: UnsafePointer<Float>, _ g: Geometry, tile t: UnsafeMutablePointer<Float>,
                              _ dst: UnsafeMutablePointer<Float>, rowStride: Int) {
        let pw = g.w + 2 * g.pad
        for i in 0..<g.h {
            let d = t + (i + g.pad) * pw + g.pad, s = src + i * g.w
            for j in 0..<g.w { d[j] = s[j] }
        }
        for p in 0..<g.k {
            for q in 0..<g.k {
                let row = dst + (p * g.k + q) * rowStride
                for i in 0..<g.oh {
                    let s = t + (i + p) * pw + q, d = row + i * g.ow
                    for j in 0..<g.ow { d[j] = s[j] }
                }
            }
        }
    }

    /// `dx_img += col2im(Wᵀ · dy_img)` for one image: `dcol[CKK×P] = Wᵀ[CKK×O] · dy_img[O×P]` in `columns`
    /// (`colCount` floats), then scatter-added into `dx`.
    static func addInputGradient(weights w: UnsafePointer<Float>, outChannels o: Int, _ dy: UnsafePointer<Float>, _ g: Geometry,
                                 columns: UnsafeMutablePointer<Float>, into dx: UnsafeMutablePointer<Float>) {
        BLAS.gemm(transA: true, m: g.rows, n: g.cols, k: o, a: w, lda: g.rows, b: dy, ldb: g.cols, c: columns, ldc: g.cols)
        col2im(columns, g, dx)
    }

    /// Adjoint of `im2col`: adds each column entry back onto the input pixel it was copied from.
    static func col2im(_ col: UnsafePointer<Float>, _ g: Geometry, _ x: UnsafeMutablePointer<Float>) {
        var row = 0
        for c in 0..<g.c {
            for p in 0..<g.k {
                for q in 0..<g.k {
                    let src = col + row * g.cols
                    for i in 0..<g.oh {
                        let iy = i * g.s + p - g.pad
                        if iy < 0 || iy >= g.h { continue }
                        let s = src + i * g.ow
                        let dst = x + (c * g.h + iy) * g.w
                        for j in 0..<g.ow {
                            let ix = j * g.s + q - g.pad
                            if ix >= 0 && ix < g.w { dst[ix] += s[j] }
                        }
                    }
                    row += 1
                }
            }
        }
    }
}
