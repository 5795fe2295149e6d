import TensorCore

/// Full-image circular convolution (ConvActually's layer), computed in the Fourier domain with FFTW.
///
/// The kernel covers the whole `H×W` image and the image wraps around:
///
///     y[n,o,i,j] = b[o] + Σ_c Σ_{p,q} w[o,c,p,q] · x[n,c, (i+p−⌊H/2⌋) mod H, (j+q−⌊W/2⌋) mod W]
///
/// This is PyTorch's `Conv2d(C, O, kernel_size=(H, W), padding=(H//2, W//2), padding_mode='circular')`:
/// circular padding makes the padded row `x̂[a] = x[(a − H//2) mod H]`, so the cross-correlation output
/// is `y[i] = Σ_p w[p]·x̂[i+p] = Σ_p w[p]·x[(i+p−H//2) mod H]`. For odd H that output has exactly H rows;
/// for even H PyTorch returns H+1 rows whose last equals the first (the expression has period H), so
/// the H rows kept here are all the information it carries. Same for the width.
///
/// With the rolled kernel `w̃[o,c,p,q] = w[o,c,(p+⌊H/2⌋) mod H,(q+⌊W/2⌋) mod W]` the layer is a plain
/// circular cross-correlation, which the unnormalized DFT diagonalizes per frequency k:
/// `Y[n,o](k) = Σ_c conj(W̃[o,c](k)) · X[n,c](k)`, i.e. one complex `[N×C]·[C×O]` product per
/// frequency (`BLAS.cgemm`) on the half spectrum `H×(W/2+1)`; `y = IDFT(Y)/(H·W)`. Backward uses the
/// adjoints: `DX(k) = Σ_o DY(k)·W̃(k)` and `DW̃(k) = Σ_n conj(DY(k))·X(k)`.
///
/// Shapes: x `[N, C, H, W]` → y `[N, O, H, W]`; weight `[O, C, H, W]`, bias `[O]`.
public final class CircularConv2D: Layer {
    public let inChannels: Int
    public let outChannels: Int
    public let height: Int
    public let width: Int
    public let name: String
    /// `[O, C, H, W]`, decays.
    public let weight: Parameter
    /// `[O]`, does not decay; nil for a bias-free layer.
    public let bias: Parameter?

    /// Half-spectrum size `H·(W/2+1)`: the number of independent channel-mixing products.
    private var frequencies: Int { height * (width / 2 + 1) }
    /// Batch size of the last forward pass.
    private var cachedBatch = -1
    /// Input spectrum of the last forward pass, frequency-major `[F, N, C]` complex (interleaved).
    private var inputSpectrum: [Float] = []
    /// Rolled-weight spectrum used by the last forward pass, frequency-major `[F, O, C]` complex.
    private var weightSpectrum: [Float] = []

    public var parameters: [Parameter] {
        if let bias { return [weight, bias] }
        return [weight]
    }

    /// Creates the layer with PyTorch's default init (`fan_in = C·H·W`), weight first, then bias.
    public init(inChannels: Int, outChannels: Int, height: Int, width: Int, bias: Bool = true,
                name: String, rng: inout SeededRNG) throws {
        guard inChannels > 0, outChannels > 0, height > 0, width > 0 else {
            throw TensorError(.invalidArgument,
                              "\(name) (CircularConv2D): channels and image size must be positive, got in \(inChannels), out \(outChannels), \(height)×\(width)")
        }
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.height = height
        self.width = width
        self.name = name
        let fanIn = inChannels * height * width
        let initialization = Initialization.pytorchDefault
        let w = initialization.weight([outChannels, inChannels, height, width], fanIn: fanIn,
                                      fanOut: outChannels * height * width, rng: &rng)
        self.weight = Parameter("\(name).weight", w, decays: true)
        if bias {
            self.bias = Parameter("\(name).bias", initialization.bias([outChannels], fanIn: fanIn, rng: &rng), decays: false)
        } else {
            self.bias = nil
        }
    }

    /// `[N, C, H, W] → [N, O, H, W]`.
    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        try x.expectShape([-1, inChannels, height, width], "\(name) (CircularConv2D) input")
        let n = x.shape[0], c = inChannels, o = outChannels, h = height, w = width
        let f = frequencies, hw = h * w
        var y = Tensor(zeros: [n, o, h, w])
        cachedBatch = n
        guard n > 0 else { inputSpectrum = []; return y }

        // Rolled weight w̃[o,c,p,q] = w[o,c,(p+H/2) mod H,(q+W/2) mod W], then its spectrum [F, O·C].
        var rolled = [Float](repeating: 0, count: o * c * hw)
        let sh = h / 2, sw = w / 2
        weight.value.data.withUnsafeBufferPointer { src in
            for m in 0..<(o * c) {
                for p in 0..<h {
                    let from = m * hw + ((p + sh) % h) * w, to = m * hw + p * w
                    for q in 0..<w { rolled[to + q] = src[from + (q + sw) % w] }
                }
            }
        }
        weightSpectrum = try CircularConv2D.spectrumFrequencyMajor(rolled, images: o * c, h: h, w: w)
        inputSpectrum = try CircularConv2D.spectrumFrequencyMajor(x.data, images: n * c, h: h, w: w)

        // Y_f[N×O] = X_f[N×C] · W̃_fᴴ[C×O] for every frequency f.
        var ySpec = [Float](repeating: 0, count: 2 * f * n * o)
        inputSpectrum.withUnsafeBufferPointer { xs in
        weightSpectrum.withUnsafeBufferPointer { ws in
        ySpec.withUnsafeMutableBufferPointer { ys in
            // Non-empty buffers (n > 0, every dimension positive), so base addresses exist.
            let xp = xs.baseAddress!, wp = ws.baseAddress!, yp = ys.baseAddress!
            Parallel.forChunks(f) { range in
                for fi in range {
                    BLAS.cgemm(conjTransB: true, m: n, n: o, k: c,
                               a: xp + 2 * fi * n * c, lda: c, b: wp + 2 * fi * o * c, ldb: c,
                               c: yp + 2 * fi * n * o, ldc: o)
                }
            }
        }}}
        try CircularConv2D.realFromFrequencyMajor(ySpec, images: n * o, h: h, w: w, into: &y.data)
        if let b = bias?.value.data {
            y.data.withUnsafeMutableBufferPointer { yb in
                for img in 0..<n {
                    for oc in 0..<o {
                        let base = (img * o + oc) * hw, v = b[oc]
                        for i in 0..<hw { yb[base + i] += v }
                    }
                }
            }
        }
        return y
    }

    /// `dL/dy [N, O, H, W] → dL/dx [N, C, H, W]`; adds dL/dW and dL/db when `parameterGradients`.
    public func backward(_ dy: Tensor, parameterGradients: Bool) throws -> Tensor {
        guard cachedBatch >= 0 else {
            throw TensorError(.invalidArgument, "\(name) (CircularConv2D): backward called before forward")
        }
        let n = cachedBatch, c = inChannels, o = outChannels, h = height, w = width
        let f = frequencies, hw = h * w
        try dy.expectShape([n, o, h, w], "\(name) (CircularConv2D) output gradient")
        var dx = Tensor(zeros: [n, c, h, w])
        guard n > 0 else { return dx }

        let dySpec = try CircularConv2D.spectrumFrequencyMajor(dy.data, images: n * o, h: h, w: w)
        var dxSpec = [Float](repeating: 0, count: 2 * f * n * c)
        var dwSpec = [Float](repeating: 0, count: parameterGradients ? 2 * f * o * c : 0)
        dySpec.withUnsafeBufferPointer { dys in
        inputSpectrum.withUnsafeBufferPointer { xs in
        weightSpectrum.withUnsafeBufferPointer { ws in
        dxSpec.withUnsafeMutableBufferPointer { dxs in
        dwSpec.withUnsafeMutableBufferPointer { dws in
            // Non-empty buffers (n > 0, every dimension positive), so base addresses exist;
            // dws is empty unless parameterGradients (an empty array may still have a base address).
            let dyp = dys.baseAddress!, xp = xs.baseAddress!, wp = ws.baseAddress!, dxp = dxs.baseAddress!
            let dwp = parameterGradients ? dws.baseAddress : nil
            Parallel.forChunks(f) { range in
                for fi in range {
                    // DX_f[N×C] = DY_f[N×O] · W̃_f[O×C]
                    BLAS.cgemm(m: n, n: c, k: o, a: dyp + 2 * fi * n * o, lda: o, b: wp + 2 * fi * o * c, ldb: c,
                               c: dxp + 2 * fi * n * c, ldc: c)
                    if let dwp {
                        // DW̃_f[O×C] = DY_fᴴ[O×N] · X_f[N×C]
                        BLAS.cgemm(conjTransA: true, m: o, n: c, k: n, a: dyp + 2 * fi * n * o, lda: o,
                                   b: xp + 2 * fi * n * c, ldb: c, c: dwp + 2 * fi * o * c, ldc: c)
                    }
                }
            }
        }}}}}
        try CircularConv2D.realFromFrequencyMajor(dxSpec, images: n * c, h: h, w: w, into: &dx.data)

        if parameterGradients {
            var dRolled = [Float](repeating: 0, count: o * c * hw)
            try CircularConv2D.realFromFrequencyMajor(dwSpec, images: o * c, h: h, w: w, into: &dRolled)
            let sh = h / 2, sw = w / 2
            weight.grad.data.withUnsafeMutableBufferPointer { g in
                // Undo the roll: w̃[p,q] is w[(p+H/2) mod H, (q+W/2) mod W].
                for m in 0..<(o * c) {
                    for p in 0..<h {
                        let to = m * hw + ((p + sh) % h) * w, from = m * hw + p * w
                        for q in 0..<w { g[to + (q + sw) % w] += dRolled[from + q] }
                    }
                }
            }
            if let bias {
                dy.data.withUnsafeBufferPointer { d in
                    bias.grad.data.withUnsafeMutableBufferPointer { gb in
                        for img in 0..<n {
                            for oc in 0..<o {
                                let base = (img * o + oc) * hw
                                var s: Float = 0
                                for i in 0..<hw { s += d[base + i] }
                                gb[oc] += s
                            }
                        }
                    }
                }
            }
        }
        return dx
    }
}

extension CircularConv2D {
    /// Unnormalized half spectra of `images` real `h×w` images, returned frequency-major
    /// (`[F, images]` complex), so each frequency's channel matrix is contiguous for `cgemm`.
    static func spectrumFrequencyMajor(_ real: [Float], images: Int, h: Int, w: Int) throws -> [Float] {
        let f = h * (w / 2 + 1)
        var imageMajor = [Float](repeating: 0, count: 2 * images * f)
        var out = [Float](repeating: 0, count: 2 * images * f)
        try real.withUnsafeBufferPointer { src in
            try imageMajor.withUnsafeMutableBufferPointer { dst in
                // Non-empty (images > 0 checked by callers).
                let sp = src.baseAddress!, dp = dst.baseAddress!
                // Plan once on this thread (the only step that can fail); the cached plan is then
                // reused by the parallel chunks, whose execute calls cannot fail.
                try FFT.forwardReal(sp, dp, batch: 0, h: h, w: w)
                Parallel.forChunks(images) { range in
                    try? FFT.forwardReal(sp + range.lowerBound * h * w, dp + 2 * range.lowerBound * f,
                                         batch: range.count, h: h, w: w)
                }
            }
        }
        transposeComplex(imageMajor, rows: images, cols: f, into: &out)
        return out
    }

    /// Inverse of `spectrumFrequencyMajor` including the `1/(h·w)` normalization: `[F, images]`
    /// complex → `images` real `h×w` images written into `real`.
    static func realFromFrequencyMajor(_ spectrum: [Float], images: Int, h: Int, w: Int, into real: inout [Float]) throws {
        let f = h * (w / 2 + 1)
        var imageMajor = [Float](repeating: 0, count: 2 * images * f)
        transposeComplex(spectrum, rows: f, cols: images, into: &imageMajor)
        let scale = 1 / Float(h * w)
        try imageMajor.withUnsafeBufferPointer { src in
            try real.withUnsafeMutableBufferPointer { dst in
                // Non-empty (images > 0 checked by callers).
                let sp = src.baseAddress!, dp = dst.baseAddress!
                try FFT.inverseReal(sp, dp, batch: 0, h: h, w: w)  // plan on this thread, see above
                Parallel.forChunks(images) { range in
                    try? FFT.inverseReal(sp + 2 * range.lowerBound * f, dp + range.lowerBound * h * w,
                                         batch: range.count, h: h, w: w, scale: scale)
                }
            }
        }
    }

    /// `dst[j, i] = src[i, j]` for a `rows × cols` matrix of interleaved complex values.
    static func transposeComplex(_ src: [Float], rows: Int, cols: Int, into dst: inout [Float]) {
        src.withUnsafeBufferPointer { s in
            dst.withUnsafeMutableBufferPointer { d in
                let tile = 32
                for i0 in stride(from: 0, to: rows, by: tile) {
                    for j0 in stride(from: 0, to: cols, by: tile) {
                        for i in i0..<min(i0 + tile, rows) {
                            for j in j0..<min(j0 + tile, cols) {
                                d[2 * (j * rows + i)] = s[2 * (i * cols + j)]
                                d[2 * (j * rows + i) + 1] = s[2 * (i * cols + j) + 1]
                            }
                        }
                    }
                }
            }
        }
    }
}
