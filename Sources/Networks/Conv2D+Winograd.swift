import CMachine
import Foundation
import TensorCore

/// Winograd F(4×4, 3×3) for the training passes of stride-1, padding-1 3×3 convolutions (channel counts
/// multiples of 8), on AVX2 and AVX-512 alike (`CMachine/fs_winograd.c`, chosen at run time).
///
/// Each 4×4 block of outputs comes from a 6×6 input tile with 36 instead of 144 multiplications per channel
/// pair: `Y = Aᵀ[(G W Gᵀ) ⊙ (Bᵀ X B)]A`. Summed over channels the element-wise products are 36 matrix products
/// (one per transformed position ξ) over a group of images, `M[ξ] (R×O) = V[ξ] (R×C) · U[ξ] (C×O)` with R the
/// group's tiles, run by OpenBLAS. The backward passes are the exact adjoints of that computation:
/// `dM = A dY Aᵀ`; input gradient `dV[ξ] = dM[ξ] · U[ξ]ᵀ`, `dX = Σ B dV Bᵀ`; weight gradient
/// `dU[ξ] = Σ_groups V[ξ]ᵀ · dM[ξ]`, `dW = Gᵀ dU G`.
///
/// Rounding: 1.5–3.5e-6 of the largest output against a double-precision direct convolution (im2col + BLAS:
/// 1.7–2.5e-7; measured on the test geometries), from the transforms' coefficients (up to 8 in A, 5 in B, 1/24 in G); see `fs_winograd.h`.
///
/// Each thread takes a fixed contiguous share of the batch and runs its groups start to end (transforms, the 36
/// products, output) with no barrier between; weight-gradient partials are added in thread order, so results are
/// reproducible for a fixed thread count. The large buffers are process-wide (`WinogradBuffers`), sized for the
/// largest layer: layers run one at a time.
final class WinogradConvolution {
    let batch: Int, channels: Int, outputs: Int, height: Int, width: Int
    /// Tiles per image (`ty × tx` 4×4 output blocks) and images per group.
    let tilesY: Int, tilesX: Int, groupImages: Int
    /// `Parallel.threads` at creation.
    let threads: Int

    /// Output positions per image from which Winograd is planned (`bench conv`, 2 threads, Zen 4): on 4×4 maps
    /// (one tile per image) 450–480 GFLOP/s of direct-convolution work with AVX-512 and 390–430 with AVX2, against
    /// 160–310 for oneDNN's direct kernels and the batch GEMM; smaller maps are unrolled (≤ 4 positions) or direct.
    static let minimumPositions = 16

    /// Tile rows of the matrix products per group: enough for OpenBLAS to run near its peak (a row is one tile).
    static let targetRows = 256

    /// Whether the Winograd kernels run this convolution on this CPU.
    static func supports(_ g: Conv2D.Geometry, outChannels: Int) -> Bool {
        g.k == 3 && g.s == 1 && g.pad == 1 && fs_wino_lanes(g.c) > 0 && fs_wino_lanes(outChannels) > 0
    }

    init(_ g: Conv2D.Geometry, batch: Int, outChannels: Int) {
        self.batch = batch
        channels = g.c
        outputs = outChannels
        height = g.h
        width = g.w
        tilesY = (g.h + 3) / 4
        tilesX = (g.w + 3) / 4
        threads = min(Parallel.threads, batch)
        groupImages = max(1, min((batch + threads - 1) / threads, Self.targetRows / (tilesY * tilesX)))
    }

    /// Floats of one thread's share of `WinogradBuffers.tiles`: V `[36][R][C]`, M `[36][R][O]`, a bordered
    /// channels-last input `[4ty+2][4tx+2][C]` (border zero during a call), a channels-last output or output gradient
    /// `[4ty][4tx][O]` and a bordered input gradient.
    private var threadFloats: Int { 36 * rows * (channels + outputs) + gradientOffset + borderedFloats }
    private var rows: Int { groupImages * tilesY * tilesX }
    private var borderedFloats: Int { (4 * tilesY + 2) * (4 * tilesX + 2) * channels }
    /// Offsets inside one thread's share.
    private var outputTilesOffset: Int { 36 * rows * channels }
    private var imageOffset: Int { 36 * rows * (channels + outputs) }
    private var outputOffset: Int { imageOffset + borderedFloats }
    private var gradientOffset: Int { outputOffset + 16 * tilesY * tilesX * outputs }
    private var filterFloats: Int { 36 * channels * outputs }
    /// The tile buffers of all threads and, after them, the weights (or their gradient) transposed to `[C·9][O]`.
    private var tileFloats: Int { threads * threadFloats + 9 * channels * outputs }
}

extension WinogradConvolution {
    /// `y [N, O, H, W] = conv(x [N, C, H, W], w) + b`.
    func forward(x: UnsafePointer<Float>, w: UnsafePointer<Float>, b: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
        let c = channels, o = outputs, tiles = tilesY * tilesX, ld = rows
        WinogradBuffers.shared.use(filters: filterFloats, gradients: 0, tiles: tileFloats) { u, _, space in
            transformFilters(w, into: u, scratch: space + threads * threadFloats)
            forGroups(space) { share, images in
                let v = share, m = share + outputTilesOffset, xp = share + imageOffset, ycl = share + outputOffset
                for img in images {
                    loadBordered(x + img * c * height * width, channels: c, into: xp)
                    let done = fs_wino_input(xp, c, tilesY, tilesX, v, ld * c, c, (img - images.lowerBound) * tiles)
                    precondition(done == 1, "fs_wino_input declined a geometry it was planned for")
                }
                for xi in 0..<36 {
                    BLAS.gemm(m: images.count * tiles, n: o, k: c, a: v + xi * ld * c, lda: c, b: u + xi * c * o, ldb: o,
                              c: m + xi * ld * o, ldc: o)
                }
                for img in images {
                    let done = fs_wino_output(m, ld * o, o, (img - images.lowerBound) * tiles, o, b, tilesY, tilesX,
                                              height, width, ycl)
                    precondition(done == 1, "fs_wino_output declined a geometry it was planned for")
                    Kernels.transpose(ycl, rows: height * width, columns: o, sourceStride: o, into: y + img * o * height * width,
                                      destinationStride: height * width, complex: false)
                }
            }
        }
    }

    /// `dx` written when non-nil; `Gᵀ dU G` added into `dw` when non-nil. The bias gradient is the caller's.
    func backward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, w: UnsafePointer<Float>,
                  dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?) {
        let gradients = dw == nil ? 0 : threads * filterFloats
        WinogradBuffers.shared.use(filters: filterFloats, gradients: gradients, tiles: tileFloats) { u, dus, space in
            if dx != nil { transformFilters(w, into: u, scratch: space + threads * threadFloats) }
            forShares(space) { t, images, share in
                let v = share, m = share + outputTilesOffset
                let du = dw == nil ? nil : dus + t * filterFloats
                var first = true
                for start in stride(from: images.lowerBound, to: images.upperBound, by: groupImages) {
                    let group = start..<min(images.upperBound, start + groupImages)
                    backwardGroup(group, x: x, dy: dy, u: u, du: du, accumulate: !first, dx: dx, share: share, v: v, m: m)
                    first = false
                }
            }
            guard let dw else { return }
            let total = filterFloats
            Parallel.forChunks(total) { range in  // thread partials added in thread order
                for t in 1..<max(1, threads) {
                    let part = dus + t * total
                    for i in range { dus[i] += part[i] }
                }
            }
            foldFilterGradient(dus, into: dw, scratch: space + threads * threadFloats)
        }
    }

    /// One group of the backward pass inside a thread's share: dM from dy, V from x (weight gradient), the 36
    /// products, then dx.
    private func backwardGroup(_ group: Range<Int>, x: UnsafePointer<Float>, dy: UnsafePointer<Float>, u: UnsafePointer<Float>,
                               du: UnsafeMutablePointer<Float>?, accumulate: Bool, dx: UnsafeMutablePointer<Float>?,
                               share: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>) {
        let c = channels, o = outputs, tiles = tilesY * tilesX, ld = rows, plane = height * width
        for img in group {
            let t0 = (img - group.lowerBound) * tiles
            if du != nil {
                loadBordered(x + img * c * plane, channels: c, into: share + imageOffset)
                _ = fs_wino_input(share + imageOffset, c, tilesY, tilesX, v, ld * c, c, t0)
            }
            loadPadded(dy + img * o * plane, channels: o, into: share + outputOffset)
            _ = fs_wino_output_adjoint(share + outputOffset, o, tilesY, tilesX, m, ld * o, o, t0)
        }
        let r = group.count * tiles
        for xi in 0..<36 {
            let vx = v + xi * ld * c, mx = m + xi * ld * o
            if let du {
                BLAS.gemm(transA: true, m: c, n: o, k: r, a: vx, lda: c, b: mx, ldb: o,
                          beta: accumulate ? 1 : 0, c: du + xi * c * o, ldc: o)
            }
            if dx != nil { BLAS.gemm(transB: true, m: r, n: c, k: o, a: mx, lda: o, b: u + xi * c * o, ldb: o, c: vx, ldc: c) }
        }
        guard let dx else { return }
        let dxp = share + gradientOffset
        for img in group {
            dxp.update(repeating: 0, count: borderedFloats)  // tiles overlap: their adjoints add
            _ = fs_wino_input_adjoint(v, ld * c, c, (img - group.lowerBound) * tiles, c, tilesY, tilesX, dxp)
            storeBordered(dxp, channels: c, into: dx + img * c * plane)
        }
    }

    /// `U = G W Gᵀ` for every filter: the weights transposed to `[C·9][O]` in `scratch` (split over output
    /// channels), then transformed along O (split over input channels).
    private func transformFilters(_ w: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>, scratch wt: UnsafeMutablePointer<Float>) {
        let c = channels, o = outputs, row = 9 * c
        Parallel.forChunks(o) { rows in
            Kernels.transpose(w + rows.lowerBound * row, rows: rows.count, columns: row, sourceStride: row,
                              into: wt + rows.lowerBound, destinationStride: o, complex: false)
        }
        Parallel.forChunks(c) { range in fs_wino_filter(wt, o, c, range.lowerBound, range.upperBound, u) }
    }

    /// `dw += Gᵀ dU G` (dU summed in `du`): the adjoint along O into `scratch` `[C·9][O]`, transposed back into
    /// `du` (no longer needed) and added.
    private func foldFilterGradient(_ du: UnsafeMutablePointer<Float>, into dw: UnsafeMutablePointer<Float>,
                                    scratch dwt: UnsafeMutablePointer<Float>) {
        let c = channels, o = outputs, row = 9 * c
        Parallel.forChunks(c) { range in fs_wino_filter_adjoint(du, o, c, range.lowerBound, range.upperBound, dwt) }
        Parallel.forChunks(o) { rows in
            Kernels.transpose(dwt + rows.lowerBound, rows: row, columns: rows.count, sourceStride: o,
                              into: du + rows.lowerBound * row, destinationStride: row, complex: false)
            Kernels.add(du + rows.lowerBound * row, dw + rows.lowerBound * row, count: rows.count * row)
        }
    }

    /// `body(thread, images, share)` per thread: its contiguous images of the batch (at least one: `threads` ≤
    /// batch) and its share of the buffers; BLAS serial inside.
    private func forShares(_ space: UnsafeMutablePointer<Float>, _ body: (Int, Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
        let per = threadFloats
        withSerialBLAS(true) {
            Parallel.forChunks(threads, threads: threads) { range in
                for t in range {
                    // The buffers are shared with other layers: clear the bordered input once (its border then
                    // stays zero for the whole call, interiors are overwritten image by image).
                    (space + t * per + imageOffset).update(repeating: 0, count: borderedFloats)
                    body(t, (batch * t / threads)..<(batch * (t + 1) / threads), space + t * per)
                }
            }
        }
    }

    /// `body(share, group)` for every group of `groupImages` images of every thread's share.
    private func forGroups(_ space: UnsafeMutablePointer<Float>, _ body: (UnsafeMutablePointer<Float>, Range<Int>) -> Void) {
        forShares(space) { _, images, share in
            for start in stride(from: images.lowerBound, to: images.upperBound, by: groupImages) {
                body(share, start..<min(images.upperBound, start + groupImages))
            }
        }
    }

    /// One `[C, H, W]` image into the interior of a zero-bordered `[4ty+2][4tx+2][C]` buffer.
    private func loadBordered(_ src: UnsafePointer<Float>, channels c: Int, into dst: UnsafeMutablePointer<Float>) {
        let pw = 4 * tilesX + 2, plane = height * width
        for y in 0..<height {
            Kernels.transpose(src + y * width, rows: c, columns: width, sourceStride: plane,
                              into: dst + ((y + 1) * pw + 1) * c, destinationStride: c, complex: false)
        }
    }

    /// The interior of a bordered `[4ty+2][4tx+2][C]` buffer back to `[C, H, W]`.
    private func storeBordered(_ src: UnsafePointer<Float>, channels c: Int, into dst: UnsafeMutablePointer<Float>) {
        let pw = 4 * tilesX + 2, plane = height * width
        for y in 0..<height {
            Kernels.transpose(src + ((y + 1) * pw + 1) * c, rows: width, columns: c, sourceStride: c,
                              into: dst + y * width, destinationStride: plane, complex: false)
        }
    }

    /// One `[O, H, W]` gradient into the top-left of a `[4ty][4tx][O]` buffer, zero elsewhere (the forward
    /// pass's compact `[H][W][O]` output shares the buffer, so ragged maps clear it first).
    private func loadPadded(_ src: UnsafePointer<Float>, channels o: Int, into dst: UnsafeMutablePointer<Float>) {
        let pw = 4 * tilesX, plane = height * width
        if height % 4 != 0 || width % 4 != 0 { dst.update(repeating: 0, count: 16 * tilesY * tilesX * o) }
        for y in 0..<height {
            Kernels.transpose(src + y * width, rows: o, columns: width, sourceStride: plane,
                              into: dst + y * pw * o, destinationStride: o, complex: false)
        }
    }
}

extension Conv2D {
    /// The Winograd forward of a plan that chose it.
    func forwardWinograd(_ plan: Plan, _ x: Tensor, into y: inout Tensor) {
        guard let winograd = plan.winograd else { preconditionFailure("a Winograd path without its buffers") }
        x.data.withUnsafeBufferPointer { xb in
        weight.value.data.withUnsafeBufferPointer { wb in
        y.data.withUnsafeMutableBufferPointer { yb in
            // Non-empty (n > 0, every dimension positive).
            if let b = bias?.value.data {
                b.withUnsafeBufferPointer { winograd.forward(x: xb.baseAddress!, w: wb.baseAddress!, b: $0.baseAddress, y: yb.baseAddress!) }
            } else {
                winograd.forward(x: xb.baseAddress!, w: wb.baseAddress!, b: nil, y: yb.baseAddress!)
            }
        }}}
    }

    /// The Winograd backward: `dx` (when non-nil) overwritten; dW and db added when `weights`.
    func backwardWinograd(_ plan: Plan, x: Tensor, dy: Tensor, dx: inout Tensor?, weights: Bool) {
        guard let winograd = plan.winograd else { preconditionFailure("a Winograd path without its buffers") }
        var gradient = dx ?? Tensor(zeros: [0])
        x.data.withUnsafeBufferPointer { xb in
        dy.data.withUnsafeBufferPointer { dyb in
        gradient.data.withUnsafeMutableBufferPointer { dxb in
        weight.grad.data.withUnsafeMutableBufferPointer { gw in
            // Non-empty (n > 0, every dimension positive); dx is empty without input gradient.
        weight.value.data.withUnsafeBufferPointer { wb in
            winograd.backward(x: xb.baseAddress!, dy: dyb.baseAddress!, w: wb.baseAddress!, dx: dx == nil ? nil : dxb.baseAddress,
                              dw: weights ? gw.baseAddress : nil)
        }}}}}
        if weights { addBiasGradient(dy) }
        if dx != nil { dx = gradient }
    }
}

/// The Winograd path's large buffers, one set per process sized for the largest layer (layers run one at a
/// time; the lock makes concurrent models, as in the tests, take turns): transformed filters U, per-thread
/// filter-gradient partials dU, and per-thread tile matrices and image buffers.
/// `@unchecked Sendable`: every access to the arrays happens inside `use`, under `lock`.
final class WinogradBuffers: @unchecked Sendable {
    static let shared = WinogradBuffers()
    private let lock = NSLock()
    private var filters: [Float] = [], gradients: [Float] = [], tiles: [Float] = []

    /// Runs `body(U, dU partials, tiles)` with each buffer grown to at least the given float count (> 0 for U
    /// and tiles; dU may be 0 and is then not to be used).
    func use(filters f: Int, gradients g: Int, tiles t: Int,
             _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        Workspace.grow(&filters, to: f)
        Workspace.grow(&gradients, to: max(g, 1))
        Workspace.grow(&tiles, to: t)
        filters.withUnsafeMutableBufferPointer { fb in
        gradients.withUnsafeMutableBufferPointer { gb in
        tiles.withUnsafeMutableBufferPointer { tb in
            body(fb.baseAddress!, gb.baseAddress!, tb.baseAddress!)  // grown to ≥ 1 above
        }}}
    }

    /// Bytes held now (the largest layer's needs).
    var bytes: Int {
        lock.lock()
        defer { lock.unlock() }
        return 4 * (filters.count + gradients.count + tiles.count)
    }
}
