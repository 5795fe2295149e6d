import TensorCore

/// k×k 2-D convolution with zero padding, computed as im2col + GEMM (OpenBLAS).
///
/// PyTorch semantics (cross-correlation):
/// `y[n,o,i,j] = b[o] + Σ_c Σ_{p,q} w[o,c,p,q] · x[n,c, s·i+p−pad, s·j+q−pad]`, with `x = 0` outside
/// the image. Shapes: x `[N, C, H, W]` → y `[N, O, H', W']`, `H' = (H + 2·pad − k)/s + 1`.
/// Weight `[O, C, k, k]` (PyTorch layout), bias `[O]`.
///
/// Work is split over the images of the batch into `min(Parallel.threads, N)` fixed chunks; the
/// weight gradient is accumulated per chunk and the chunks are summed in chunk order, so results are
/// bitwise reproducible for a fixed thread count.
public final class Conv2D: Layer {
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public let name: String
    /// `[O, C, k, k]`, decays.
    public let weight: Parameter
    /// `[O]`, does not decay; nil for a bias-free convolution (e.g. before BatchNorm).
    public let bias: Parameter?

    /// Input of the last forward pass, kept for backward (im2col is recomputed there to save memory).
    private(set) var cachedInput: Tensor?
    /// Batch-wide im2col matrix of `batchedWeightGradient` (small maps), kept across steps so its
    /// pages are reused.
    var batchColumns: [Float] = []
    /// `[O × N·H'·W']` work matrix of the batch-wide GEMMs (the unrolled path: its weight gradient
    /// `[O·H'·W' × C·H·W]`), kept across steps.
    var batchProduct: [Float] = []
    /// Whether the last forward pass ran through the unrolled matrix (`Conv2D+Unrolled`); its backward
    /// then must too, since it differentiates that product.
    var ranUnrolled = false
    /// The unrolled matrix `Mt [O·H'·W' × C·H·W]` of the last unrolled forward pass, kept for its backward
    /// and, as a buffer, across steps.
    var unrolledMatrix: [Float] = []
    /// Reusable im2col / col2im buffers, grown on demand and partitioned per chunk.
    var scratch: [Float] = []
    /// Which kernels compute this layer; changing it between steps is allowed.
    public var backend: Backend = Backend.preferred
    #if canImport(CDNNL)
    /// oneDNN primitives per input geometry (training and evaluation batches differ), built on first use.
    private var oneDNNPlans: [OneDNNConvolution] = []
    /// Whether the last forward pass was a training pass (its backward uses the same plan).
    private var trainedForward = false
    #endif

    public var parameters: [Parameter] {
        if let bias { return [weight, bias] }
        return [weight]
    }

    /// Creates the layer and draws its initial parameters from `rng` (weight first, then bias).
    public init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, initialization: Initialization = .pytorchDefault,
                name: String, rng: inout SeededRNG) throws {
        guard inChannels > 0, outChannels > 0, kernel > 0 else {
            throw TensorError(.invalidArgument,
                              "\(name) (Conv2D): channels and kernel must be positive, got in \(inChannels), out \(outChannels), kernel \(kernel)")
        }
        guard stride >= 1, padding >= 0 else {
            throw TensorError(.invalidArgument,
                              "\(name) (Conv2D): stride must be ≥ 1 and padding ≥ 0, got stride \(stride), padding \(padding)")
        }
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.name = name
        let fanIn = inChannels * kernel * kernel
        let fanOut = outChannels * kernel * kernel
        let w = initialization.weight([outChannels, inChannels, kernel, kernel], fanIn: fanIn, fanOut: fanOut, rng: &rng)
        self.weight = Parameter("\(name).weight", w, decays: true)
        if bias {
            let b = initialization.bias([outChannels], fanIn: fanIn, rng: &rng)
            self.bias = Parameter("\(name).bias", b, decays: false)
        } else {
            self.bias = nil
        }
    }

    /// Output spatial size for an `h×w` input; throws when the kernel does not fit.
    public func outputSize(height h: Int, width w: Int) throws -> (height: Int, width: Int) {
        let ph = h + 2 * padding, pw = w + 2 * padding
        guard ph >= kernel, pw >= kernel else {
            throw TensorError(.shapeMismatch,
                              "\(name) (Conv2D): a \(kernel)×\(kernel) kernel does not fit a \(h)×\(w) input with padding \(padding)")
        }
        return ((ph - kernel) / stride + 1, (pw - kernel) / stride + 1)
    }

    /// Sizes of this layer's convolution of an `[N, C, H, W]` input; throws when the kernel does not fit.
    func geometry(_ x: Tensor) throws -> Geometry {
        let (oh, ow) = try outputSize(height: x.shape[2], width: x.shape[3])
        return Geometry(c: inChannels, h: x.shape[2], w: x.shape[3], k: kernel, s: stride, pad: padding, oh: oh, ow: ow)
    }

    /// `[N, C, H, W] → [N, O, H', W']`.
    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        try x.expectShape([-1, inChannels, -1, -1], "\(name) (Conv2D) input")
        let n = x.shape[0]
        let g = try geometry(x)
        var y = Tensor(uninitialized: [n, outChannels, g.oh, g.ow])  // every path writes all of y
        cachedInput = x
        // Tiny "same" maps: one dense product with the unrolled weights beats oneDNN's direct kernels,
        // which multiply the padding zeros too (Conv2D+Unrolled); no oneDNN plan is made for them.
        ranUnrolled = backend.usesOneDNN && usesUnrolledWeights(g)
        guard n > 0 else { return y }
        if ranUnrolled {
            forwardUnrolled(x, g, into: &y)
            return y
        }
        #if canImport(CDNNL)
        if backend.usesOneDNN {
            trainedForward = mode == .train
            let plan = try oneDNNPlan(batch: n, height: x.shape[2], width: x.shape[3], winograd: winogradPasses(g, train: trainedForward))
            try x.data.withUnsafeBufferPointer { xb in
            try weight.value.data.withUnsafeBufferPointer { wb in
            try y.data.withUnsafeMutableBufferPointer { yb in
                // Non-empty buffers (n > 0, every dimension positive), so base addresses exist.
                if let b = bias {
                    try b.value.data.withUnsafeBufferPointer { bb in
                        try plan.forward(x: xb.baseAddress!, w: wb.baseAddress!, b: bb.baseAddress!, y: yb.baseAddress!, name: name)
                    }
                } else {
                    try plan.forward(x: xb.baseAddress!, w: wb.baseAddress!, b: nil, y: yb.baseAddress!, name: name)
                }
            }}}
            return y
        }
        // A later oneDNN backward must not take its blocked input copy for this input.
        if !oneDNNPlans.isEmpty { oneDNNPlans.removeAll() }
        #endif

        let chunks = min(Parallel.threads, n)
        if scratch.count < chunks * g.colCount { scratch = [Float](repeating: 0, count: chunks * g.colCount) }
        let o = outChannels, ckk = g.rows, p = g.cols
        let inStride = g.c * g.h * g.w, outStride = o * p
        let biasValues = bias?.value.data

        x.data.withUnsafeBufferPointer { xb in
        weight.value.data.withUnsafeBufferPointer { wb in
        y.data.withUnsafeMutableBufferPointer { yb in
        scratch.withUnsafeMutableBufferPointer { sb in
            // Non-empty buffers (n > 0, every dimension positive), so base addresses exist.
            let xp = xb.baseAddress!, wp = wb.baseAddress!, yp = yb.baseAddress!, sp = sb.baseAddress!
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
        return y
    }

    /// `dL/dy [N, O, H', W'] → dL/dx [N, C, H, W]`; adds dL/dW and dL/db when `parameterGradients`.
    public func backward(_ dy: Tensor, parameterGradients: Bool) throws -> Tensor {
        try backward(dy, parameterGradients: parameterGradients, inputGradient: true) ?? Tensor(zeros: [])
    }

    /// Adds dL/dW and dL/db only: the first layer's input gradient is never read in training.
    public func parameterGradients(_ dy: Tensor) throws {
        _ = try backward(dy, parameterGradients: true, inputGradient: false)
    }

    /// The backward pass with either half optional; returns dL/dx when `inputGradient`.
    private func backward(_ dy: Tensor, parameterGradients: Bool, inputGradient: Bool) throws -> Tensor? {
        guard let x = cachedInput else {
            throw TensorError(.invalidArgument, "\(name) (Conv2D): backward called before forward")
        }
        let n = x.shape[0]
        let g = try geometry(x)
        try dy.expectShape([n, outChannels, g.oh, g.ow], "\(name) (Conv2D) output gradient")
        guard n > 0 else { return inputGradient ? Tensor(zeros: x.shape) : nil }
        if ranUnrolled {
            return backwardUnrolled(x: x, dy: dy, g, parameterGradients: parameterGradients, inputGradient: inputGradient)
        }
        #if canImport(CDNNL)
        if backend.usesOneDNN {
            let plan = try oneDNNPlan(batch: n, height: x.shape[2], width: x.shape[3], winograd: winogradPasses(g, train: trainedForward))
            // Small output maps: oneDNN's direct weight-gradient kernels run at a fraction of peak there (56–131
            // GFLOP/s on VGG's 2×2 and 4×4 layers on 2 threads), one batch-wide GEMM does not (Conv2D+BatchGEMM).
            let viaGEMM = parameterGradients && !plan.weightGradientIsWinograd && g.cols <= Self.batchGEMMMaxPositions
            // oneDNN writes every element of dx; without an input gradient dx stays empty.
            var dx = inputGradient ? Tensor(uninitialized: x.shape) : Tensor(zeros: [0])
            let viaOneDNN = parameterGradients && !viaGEMM
            if inputGradient || viaOneDNN {
                try oneDNNBackward(plan, x: x, dy: dy, dx: &dx, inputGradient: inputGradient, parameterGradients: viaOneDNN)
            }
            if viaGEMM { batchedWeightGradient(x: x, dy: dy, g) }
            return inputGradient ? dx : nil
        }
        #endif
        var dx = Tensor(zeros: inputGradient ? x.shape : [0])

        let chunks = min(Parallel.threads, n)
        let o = outChannels, ckk = g.rows, p = g.cols
        let inStride = g.c * g.h * g.w, outStride = o * p
        let wCount = o * ckk
        let hasBias = bias != nil
        // Per chunk: col + dcol, then (if asked) a partial dW [O×CKK] and a partial db [O].
        let perChunk = 2 * g.colCount + (parameterGradients ? wCount + o : 0)
        if scratch.count < chunks * perChunk { scratch = [Float](repeating: 0, count: chunks * perChunk) }

        x.data.withUnsafeBufferPointer { xb in
        dy.data.withUnsafeBufferPointer { dyb in
        weight.value.data.withUnsafeBufferPointer { wb in
        dx.data.withUnsafeMutableBufferPointer { dxb in
        scratch.withUnsafeMutableBufferPointer { sb in
            // Non-empty buffers (n > 0, every dimension positive), so base addresses exist.
            let xp = xb.baseAddress!, dyp = dyb.baseAddress!, wp = wb.baseAddress!
            let dxp = dxb.baseAddress, sp = sb.baseAddress!  // dx is empty without input gradient
            withSerialBLAS(chunks > 1) { Parallel.forChunks(chunks) { range in
                for chunk in range {
                    let base = sp + chunk * perChunk
                    let col = base, dcol = base + g.colCount
                    let dW = base + 2 * g.colCount, dB = dW + wCount
                    if parameterGradients { dW.initialize(repeating: 0, count: wCount + o) }
                    for img in (n * chunk / chunks)..<(n * (chunk + 1) / chunks) {
                        let dyi = dyp + img * outStride
                        if parameterGradients {
                            Conv2D.im2col(xp + img * inStride, g, col)
                            // dW[O×CKK] += dy_img[O×P] · colᵀ[P×CKK]
                            BLAS.gemm(transB: true, m: o, n: ckk, k: p, a: dyi, lda: p, b: col, ldb: p,
                                      beta: 1, c: dW, ldc: ckk)
                            if hasBias {
                                for oc in 0..<o {
                                    let row = dyi + oc * p
                                    var s: Float = 0
                                    for j in 0..<p { s += row[j] }
                                    dB[oc] += s
                                }
                            }
                        }
                        guard inputGradient else { continue }
                        Conv2D.addInputGradient(weights: wp, outChannels: o, dyi, g, columns: dcol, into: dxp! + img * inStride)
                    }
                }
            }}
            if parameterGradients {
                // Fixed-order reduction of the chunk partials.
                weight.grad.data.withUnsafeMutableBufferPointer { gw in
                    for chunk in 0..<chunks {
                        let part = sp + chunk * perChunk + 2 * g.colCount
                        for i in 0..<wCount { gw[i] += part[i] }
                    }
                }
                if let bias {
                    bias.grad.data.withUnsafeMutableBufferPointer { gb in
                        for chunk in 0..<chunks {
                            let part = sp + chunk * perChunk + 2 * g.colCount + wCount
                            for i in 0..<o { gb[i] += part[i] }
                        }
                    }
                }
            }
        }}}}}
        return inputGradient ? dx : nil
    }
}

#if canImport(CDNNL)
extension Conv2D {
    /// Which passes of this geometry run Winograd (bits: forward, backward data, backward weights), from
    /// `bench conv`-style measurements on 2 threads: on maps of ≥ 8×8 outputs all three passes run
    /// ~2× faster than direct; on 4×4 maps only the weight gradient gains (and beats the batch GEMM);
    /// smaller maps stay direct (2×2 "same" maps go through Conv2D+Unrolled). Only training passes: evaluation
    /// and the probes stay direct.
    func winogradPasses(_ g: Geometry, train: Bool) -> Int32 {
        guard backend == .winograd, train, kernel == 3, stride == 1 else { return 0 }
        if g.cols >= 64 { return 0b111 }
        if g.cols >= 16 { return 0b100 }
        return 0
    }

    /// The cached oneDNN plan for this input geometry and choice of algorithms, created (and the
    /// oldest dropped) on a miss.
    func oneDNNPlan(batch: Int, height: Int, width: Int, winograd: Int32) throws -> OneDNNConvolution {
        if let p = oneDNNPlans.first(where: {
            $0.batch == batch && $0.height == height && $0.width == width && $0.threads == Parallel.threads
                && $0.requestedWinograd == winograd
        }) { return p }
        let p = try OneDNNConvolution(self, batch: batch, height: height, width: width, winograd: winograd)
        if oneDNNPlans.count >= 4 { oneDNNPlans.removeFirst() }  // training (Winograd), evaluation (direct), a last short batch, a probe
        oneDNNPlans.append(p)
        return p
    }

    /// Backward through oneDNN: dx written directly (when `inputGradient`), parameter gradients
    /// computed into `scratch` and then added to `grad` (oneDNN overwrites, the Layer contract adds).
    private func oneDNNBackward(_ plan: OneDNNConvolution, x: Tensor, dy: Tensor, dx: inout Tensor,
                                inputGradient: Bool, parameterGradients: Bool) throws {
        let wCount = weight.value.count, o = outChannels
        if parameterGradients, scratch.count < wCount + o { scratch = [Float](repeating: 0, count: wCount + o) }
        try x.data.withUnsafeBufferPointer { xb in
        try dy.data.withUnsafeBufferPointer { dyb in
        try weight.value.data.withUnsafeBufferPointer { wb in
        try dx.data.withUnsafeMutableBufferPointer { dxb in
        try scratch.withUnsafeMutableBufferPointer { sb in
            // Non-empty buffers (batch > 0, every dimension positive; scratch grown above when used).
            let dW = parameterGradients ? sb.baseAddress : nil
            try plan.backward(x: xb.baseAddress!, dy: dyb.baseAddress!, w: wb.baseAddress!, dx: inputGradient ? dxb.baseAddress : nil,
                              dw: dW, db: dW.map { $0 + wCount }, name: name)
        }}}}}
        guard parameterGradients else { return }
        scratch.withUnsafeBufferPointer { sb in
            weight.grad.data.withUnsafeMutableBufferPointer { gw in
                for i in 0..<wCount { gw[i] += sb[i] }
            }
            bias?.grad.data.withUnsafeMutableBufferPointer { gb in
                for i in 0..<o { gb[i] += sb[wCount + i] }
            }
        }
    }
}
#endif

extension Conv2D {
    /// Sizes of one image's convolution: the im2col matrix is `rows × cols` = `C·k·k × H'·W'`.
    struct Geometry {
        let c, h, w, k, s, pad, oh, ow: Int
        var rows: Int { c * k * k }
        var cols: Int { oh * ow }
        var colCount: Int { rows * cols }
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
