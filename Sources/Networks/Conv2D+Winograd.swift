import CMachine
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
/// Rounding: ≈ 2e-6 of the largest output against a double-precision direct convolution (direct float32
/// kernels: ≈ 3e-7), from the transforms' coefficients (up to 8 in A, 5 in B, 1/24 in G); see `fs_winograd.h`.
///
/// Work per group: the transforms are split over the group's images, the 36 products over ξ, so every
/// sum has one fixed order whatever the thread count (the weight gradient's groups add in batch order).
final class WinogradConvolution {
    let batch: Int, channels: Int, outputs: Int, height: Int, width: Int
    /// Tiles per image (`ty × tx` 4×4 output blocks) and images per group.
    let tilesY: Int, tilesX: Int, groupImages: Int
    /// `Parallel.threads` at creation (the per-thread image buffers).
    let threads: Int
    /// Transformed filters `U [36][C][O]` of the last forward pass (its backward reuses them).
    private var filters: [Float]
    /// `dU [36][C][O]` summed over a backward pass's groups.
    private var filterGradient: [Float] = []
    /// `V [36][R][C]` of one group (input tiles; in the backward pass also dV).
    private var inputTiles: [Float]
    /// `M [36][R][O]` of one group (output tiles; in the backward pass dM).
    private var outputTiles: [Float]
    /// Per thread: a bordered channels-last input (`[4ty+2][4tx+2][C]`, border always zero), a channels-last
    /// output or output gradient (`[4ty][4tx][O]`) and a bordered input gradient (`[4ty+2][4tx+2][C]`).
    private var images: [Float]

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
        let tiles = tilesY * tilesX
        groupImages = max(1, min(batch, Self.targetRows / tiles))
        threads = Parallel.threads
        let rows = groupImages * tiles
        filters = [Float](repeating: 0, count: 36 * g.c * outChannels)
        inputTiles = [Float](repeating: 0, count: 36 * rows * g.c)
        outputTiles = [Float](repeating: 0, count: 36 * rows * outChannels)
        images = [Float](repeating: 0, count: threads * Self.imageFloats(tilesY, tilesX, g.c, outChannels))
    }

    /// Floats of one thread's image buffers (see `images`).
    private static func imageFloats(_ ty: Int, _ tx: Int, _ c: Int, _ o: Int) -> Int {
        2 * (4 * ty + 2) * (4 * tx + 2) * c + 16 * ty * tx * o
    }

    /// Offsets of the output and input-gradient buffers inside one thread's images.
    private var outputOffset: Int { (4 * tilesY + 2) * (4 * tilesX + 2) * channels }
    private var gradientOffset: Int { outputOffset + 16 * tilesY * tilesX * outputs }

    /// Bytes this plan holds (`bench train` reports where a worker's memory goes).
    var bytes: Int { 4 * (filters.count + filterGradient.count + inputTiles.count + outputTiles.count + images.count) }

    /// The images of group `g` (starting image, count).
    private func group(_ index: Int) -> Range<Int> {
        let first = index * groupImages
        return first..<min(batch, first + groupImages)
    }

    private var groups: Int { (batch + groupImages - 1) / groupImages }
}

extension WinogradConvolution {
    /// `y [N, O, H, W] = conv(x [N, C, H, W], w) + b`; keeps the transformed filters for `backward`.
    func forward(x: UnsafePointer<Float>, w: UnsafePointer<Float>, b: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
        let c = channels, o = outputs, tiles = tilesY * tilesX, rows = groupImages * tiles
        let inStride = c * height * width, outStride = o * height * width
        transformFilters(w)
        withBuffers { u, _, v, m, buffers in
            for index in 0..<groups {
                let images = group(index)
                forImages(images, buffers) { img, buffer in
                    loadBordered(x + img * inStride, channels: c, into: buffer)
                    let done = fs_wino_input(buffer, c, tilesY, tilesX, v, rows * c, c, (img - images.lowerBound) * tiles)
                    precondition(done == 1, "fs_wino_input declined a geometry it was planned for")
                }
                forPositions { xi in
                    BLAS.gemm(m: images.count * tiles, n: o, k: c, a: v + xi * rows * c, lda: c, b: u + xi * c * o, ldb: o,
                              c: m + xi * rows * o, ldc: o)
                }
                forImages(images, buffers) { img, buffer in
                    let ycl = buffer + self.outputOffset
                    let done = fs_wino_output(m, rows * o, o, (img - images.lowerBound) * tiles, o, b, tilesY, tilesX,
                                              height, width, ycl)
                    precondition(done == 1, "fs_wino_output declined a geometry it was planned for")
                    Kernels.transpose(ycl, rows: height * width, columns: o, sourceStride: o, into: y + img * outStride,
                                      destinationStride: height * width, complex: false)
                }
            }
        }
    }

    /// Backward of the last `forward` (same weights): `dx` written when non-nil, `dU` summed and folded into
    /// `dw` (added) when non-nil. The bias gradient is the caller's (a plain sum of `dy`).
    func backward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                  dw: UnsafeMutablePointer<Float>?) {
        let c = channels, o = outputs, tiles = tilesY * tilesX, rows = groupImages * tiles
        if dw != nil, filterGradient.count < filters.count { filterGradient = [Float](repeating: 0, count: filters.count) }
        withBuffers { u, du, v, m, buffers in
            for index in 0..<groups {
                let images = group(index), first = index == 0
                forImages(images, buffers) { img, buffer in
                    let t0 = (img - images.lowerBound) * tiles
                    if dw != nil {
                        loadBordered(x + img * c * height * width, channels: c, into: buffer)
                        _ = fs_wino_input(buffer, c, tilesY, tilesX, v, rows * c, c, t0)
                    }
                    let dyp = buffer + self.outputOffset
                    loadPadded(dy + img * o * height * width, channels: o, into: dyp)
                    _ = fs_wino_output_adjoint(dyp, o, tilesY, tilesX, m, rows * o, o, t0)
                }
                let r = images.count * tiles
                forPositions { xi in
                    let vx = v + xi * rows * c, mx = m + xi * rows * o
                    if let du {
                        BLAS.gemm(transA: true, m: c, n: o, k: r, a: vx, lda: c, b: mx, ldb: o,
                                  beta: first ? 0 : 1, c: du + xi * c * o, ldc: o)
                    }
                    if dx != nil {
                        BLAS.gemm(transB: true, m: r, n: c, k: o, a: mx, lda: o, b: u + xi * c * o, ldb: o, c: vx, ldc: c)
                    }
                }
                guard let dx else { continue }
                forImages(images, buffers) { img, buffer in
                    let dxp = buffer + self.gradientOffset
                    dxp.update(repeating: 0, count: self.outputOffset)  // tiles overlap: their adjoints add
                    _ = fs_wino_input_adjoint(v, rows * c, c, (img - images.lowerBound) * tiles, c, tilesY, tilesX, dxp)
                    storeBordered(dxp, channels: c, into: dx + img * c * height * width)
                }
            }
            guard let dw, let du else { return }
            Parallel.forChunks(c) { range in fs_wino_filter_adjoint(du, o, c, range.lowerBound, range.upperBound, dw) }
        }
    }

    /// `U = G W Gᵀ` for every filter, split over input channels.
    private func transformFilters(_ w: UnsafePointer<Float>) {
        let c = channels, o = outputs
        filters.withUnsafeMutableBufferPointer { ub in
            let u = ub.baseAddress!  // 36·C·O > 0
            Parallel.forChunks(c) { range in fs_wino_filter(w, o, c, range.lowerBound, range.upperBound, u) }
        }
    }

    /// Runs `body` with base pointers of U, dU (nil when not allocated), V, M and the per-thread buffers.
    private func withBuffers(_ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>,
                                      UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        filters.withUnsafeMutableBufferPointer { ub in
        filterGradient.withUnsafeMutableBufferPointer { db in
        inputTiles.withUnsafeMutableBufferPointer { vb in
        outputTiles.withUnsafeMutableBufferPointer { mb in
        images.withUnsafeMutableBufferPointer { ib in
            // All non-empty (every size positive) except dU before the first weight gradient.
            body(ub.baseAddress!, db.baseAddress, vb.baseAddress!, mb.baseAddress!, ib.baseAddress!)
        }}}}}
    }

    /// `body(image, thread's buffers)` for the images of a group, split over the threads; BLAS stays serial.
    private func forImages(_ images: Range<Int>, _ base: UnsafeMutablePointer<Float>,
                           _ body: (Int, UnsafeMutablePointer<Float>) -> Void) {
        let chunks = min(threads, images.count)
        let per = Self.imageFloats(tilesY, tilesX, channels, outputs)
        Parallel.forChunks(chunks, threads: chunks) { range in
            for chunk in range {
                let lo = images.lowerBound + images.count * chunk / chunks
                let hi = images.lowerBound + images.count * (chunk + 1) / chunks
                for img in lo..<hi { body(img, base + chunk * per) }
            }
        }
    }

    /// `body(ξ)` for the 36 transformed positions, split over the threads with serial BLAS in each.
    private func forPositions(_ body: (Int) -> Void) {
        withSerialBLAS(true) {
            Parallel.forChunks(36, threads: threads) { range in for xi in range { body(xi) } }
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
            winograd.backward(x: xb.baseAddress!, dy: dyb.baseAddress!, dx: dx == nil ? nil : dxb.baseAddress,
                              dw: weights ? gw.baseAddress : nil)
        }}}}
        if weights { addBiasGradient(dy) }
        if dx != nil { dx = gradient }
    }
}
