import TensorCore
import Trials

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
/// frequency (`BLAS.cgemm`) on the half spectrum `H×(W/2+1)`, plus `H·W·b` in the DC bin (the bias);
/// `y = IDFT(Y)/(H·W)`. Backward uses the adjoints: `DX(k) = Σ_o DY(k)·W̃(k)`,
/// `DW̃(k) = Σ_n conj(DY(k))·X(k)` and `db = Re Σ_n DY(0)`. `CircularConvStack` chains these
/// Fourier-domain steps across layers.
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
    /// The weight values `weightSpectrum` was computed from. Holding the array is a copy-on-write
    /// reference, so an unchanged weight (evaluation, probes) is recognized in O(1) and its spectrum
    /// reused; an optimizer step writes a fresh buffer and the spectrum is recomputed.
    private var spectrumSource: [Float]?
    // Reusable work buffers (grown on demand, never shrunk): fresh multi-megabyte arrays cost more
    // in page faults than the FFTs themselves.
    /// Rolled weight `[O, C, H, W]` (forward) or its gradient (backward).
    private var rolledScratch: [Float] = []
    /// Frequency-major products: `Y` (forward) or `DX` (backward).
    private var productScratch: [Float] = []
    /// Frequency-major output-gradient spectrum `DY` (backward).
    private var outputGradientSpectrum: [Float] = []
    /// Frequency-major weight-gradient spectrum `DW̃` (backward).
    private var weightGradientSpectrum: [Float] = []

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
        let f = frequencies
        var y = Tensor(zeros: [n, o, h, w])
        cachedBatch = n
        guard n > 0 else { return y }

        try refreshWeightSpectrum()
        grow(&inputSpectrum, 2 * f * n * c)
        grow(&productScratch, 2 * f * n * max(c, o))
        try x.data.withUnsafeBufferPointer { xb in
        try y.data.withUnsafeMutableBufferPointer { yb in
        try inputSpectrum.withUnsafeMutableBufferPointer { xs in
        try productScratch.withUnsafeMutableBufferPointer { ps in
            // Non-empty buffers (n > 0, every dimension positive, grown above), so base addresses exist.
            let xsp = xs.baseAddress!, pp = ps.baseAddress!
            try CircularConv2D.spectrumFrequencyMajor(xb.baseAddress!, images: n * c, h: h, w: w, into: xsp)
            multiplySpectra(xsp, batch: n, into: pp)
            try CircularConv2D.realFromFrequencyMajor(pp, images: n * o, h: h, w: w, into: yb.baseAddress!)
        }}}}
        return y
    }

    /// `dL/dy [N, O, H, W] → dL/dx [N, C, H, W]`; adds dL/dW and dL/db when `parameterGradients`.
    public func backward(_ dy: Tensor, parameterGradients: Bool) throws -> Tensor {
        try backpropagate(dy, copies: 1, parameterGradients: parameterGradients)
    }

    /// All copies in one pass: one FFT batch and one product per frequency with `copies·N` rows.
    public func inputGradients(_ dy: Tensor, copies: Int) throws -> Tensor {
        try backpropagate(dy, copies: copies, parameterGradients: false)
    }

    /// `backward` for `copies` cotangents `[copies·N, O, H, W]` (parameter gradients are asked with one copy only).
    private func backpropagate(_ dy: Tensor, copies: Int, parameterGradients: Bool) throws -> Tensor {
        guard cachedBatch >= 0 else {
            throw TensorError(.invalidArgument, "\(name) (CircularConv2D): backward called before forward")
        }
        let n = copies * cachedBatch, c = inChannels, o = outChannels, h = height, w = width
        let f = frequencies
        try dy.expectShape([n, o, h, w], "\(name) (CircularConv2D) output gradient (\(copies) copies)")
        var dx = Tensor(zeros: [n, c, h, w])
        guard n > 0 else { return dx }

        grow(&productScratch, 2 * f * n * max(c, o))
        grow(&outputGradientSpectrum, 2 * f * n * o)
        try dy.data.withUnsafeBufferPointer { dyb in
        try dx.data.withUnsafeMutableBufferPointer { dxb in
        try outputGradientSpectrum.withUnsafeMutableBufferPointer { gs in
        try productScratch.withUnsafeMutableBufferPointer { ps in
        try inputSpectrum.withUnsafeBufferPointer { xs in
            // Non-empty buffers (n > 0, every dimension positive, grown above), so base addresses exist.
            let gsp = gs.baseAddress!, pp = ps.baseAddress!
            try CircularConv2D.spectrumFrequencyMajor(dyb.baseAddress!, images: n * o, h: h, w: w, into: gsp)
            try multiplyGradientSpectra(gsp, inputs: xs.baseAddress!, batch: n, into: pp, parameterGradients: parameterGradients)
            try CircularConv2D.realFromFrequencyMajor(pp, images: n * c, h: h, w: w, into: dxb.baseAddress!)
        }}}}}
        return dx
    }

    // MARK: The layer in the Fourier domain (shared with `CircularConvStack`)

    /// Recomputes the rolled-weight spectrum `W̃` `[F, O, C]` unless the weight is unchanged since the
    /// last call (then O(1)). Call before `multiplySpectra`; `multiplyGradientSpectra` uses the same spectrum.
    func refreshWeightSpectrum() throws {
        let o = outChannels, c = inChannels, h = height, w = width, hw = h * w, f = frequencies
        if !grow(&weightSpectrum, 2 * f * o * c) && spectrumSource == weight.value.data { return }
        spectrumSource = nil  // the spectrum is about to be overwritten
        grow(&rolledScratch, o * c * hw)
        try weight.value.data.withUnsafeBufferPointer { wb in
        try rolledScratch.withUnsafeMutableBufferPointer { rs in
        try weightSpectrum.withUnsafeMutableBufferPointer { ws in
            // Non-empty buffers (every dimension positive, grown above), so base addresses exist.
            let wp = wb.baseAddress!, rp = rs.baseAddress!
            // Rolled weight w̃[o,c,p,q] = w[o,c,(p+H/2) mod H,(q+W/2) mod W], then its spectrum [F, O·C].
            let sh = h / 2, sw = w / 2
            for m in 0..<(o * c) {
                for p in 0..<h {
                    let from = wp + m * hw + ((p + sh) % h) * w, to = rp + m * hw + p * w
                    to.update(from: from + sw, count: w - sw)      // to[q] = from[q + sw], q < w − sw
                    (to + (w - sw)).update(from: from, count: sw)  // the wrapped tail
                }
            }
            try CircularConv2D.spectrumFrequencyMajor(rp, images: o * c, h: h, w: w, into: ws.baseAddress!)
        }}}
        spectrumSource = weight.value.data
    }

    /// Forward in the Fourier domain: `Y_f[N×O] = X_f[N×C] · W̃_fᴴ[C×O]` for every frequency, plus the bias
    /// in the DC bin (`H·W·b`, the unnormalized DFT of a constant `b`). Spectra frequency-major, complex:
    /// `xs` `[F, N, C]`, `ys` `[F, N, O]`.
    func multiplySpectra(_ xs: UnsafePointer<Float>, batch n: Int, into ys: UnsafeMutablePointer<Float>) {
        let c = inChannels, o = outChannels, f = frequencies
        weightSpectrum.withUnsafeBufferPointer { ws in
            guard let wsp = ws.baseAddress else { return }
            withSerialBLAS(Parallel.threads > 1) { Parallel.forChunks(f) { range in
                for fi in range {
                    BLAS.cgemm(conjTransB: true, m: n, n: o, k: c,
                               a: xs + 2 * fi * n * c, lda: c, b: wsp + 2 * fi * o * c, ldb: c,
                               c: ys + 2 * fi * n * o, ldc: o)
                }
            }}
        }
        if let b = bias?.value.data {
            let area = Float(height * width)
            for img in 0..<n {
                for oc in 0..<o { ys[2 * (img * o + oc)] += area * b[oc] }
            }
        }
    }

    /// Backward in the Fourier domain, given the output-gradient spectrum `dys` `[F, N, O]` (unnormalized
    /// DFT of dL/dy) and the input spectrum `xs` `[F, N, C]` of the forward pass:
    /// `DX_f = DY_f · W̃_f` into `dxs` `[F, N, C]` (the unnormalized DFT of dL/dx) when given, and with
    /// `parameterGradients` adds dL/dW (`DW̃_f = DY_fᴴ · X_f`, back to space, unrolled) and
    /// dL/db (`Re Σ_n DY(0)`, the DC bin is the spatial sum) to the parameters' grads.
    func multiplyGradientSpectra(_ dys: UnsafePointer<Float>, inputs xs: UnsafePointer<Float>, batch n: Int,
                                 into dxs: UnsafeMutablePointer<Float>?, parameterGradients: Bool) throws {
        let c = inChannels, o = outChannels, h = height, w = width, hw = h * w, f = frequencies
        if parameterGradients {
            grow(&weightGradientSpectrum, 2 * f * o * c)
            grow(&rolledScratch, o * c * hw)
        }
        try weightSpectrum.withUnsafeBufferPointer { ws in
        try weightGradientSpectrum.withUnsafeMutableBufferPointer { dws in
            guard let wsp = ws.baseAddress else { return }
            // The weight-gradient buffer is only grown, and only used, with parameterGradients.
            let dwp = parameterGradients ? dws.baseAddress : nil
            withSerialBLAS(Parallel.threads > 1) { Parallel.forChunks(f) { range in
                for fi in range {
                    if let dxs {
                        // DX_f[N×C] = DY_f[N×O] · W̃_f[O×C]
                        BLAS.cgemm(m: n, n: c, k: o, a: dys + 2 * fi * n * o, lda: o, b: wsp + 2 * fi * o * c, ldb: c,
                                   c: dxs + 2 * fi * n * c, ldc: c)
                    }
                    if let dwp {
                        // DW̃_f[O×C] = DY_fᴴ[O×N] · X_f[N×C]
                        BLAS.cgemm(conjTransA: true, m: o, n: c, k: n, a: dys + 2 * fi * n * o, lda: o,
                                   b: xs + 2 * fi * n * c, ldb: c, c: dwp + 2 * fi * o * c, ldc: c)
                    }
                }
            }}
            guard let dwp else { return }
            try rolledScratch.withUnsafeMutableBufferPointer { rs in
                guard let rp = rs.baseAddress else { return }
                try CircularConv2D.realFromFrequencyMajor(dwp, images: o * c, h: h, w: w, into: rp)
                let sh = h / 2, sw = w / 2
                weight.grad.data.withUnsafeMutableBufferPointer { g in
                    // Undo the roll: w̃[p,q] is w[(p+H/2) mod H, (q+W/2) mod W].
                    for m in 0..<(o * c) {
                        for p in 0..<h {
                            let to = m * hw + ((p + sh) % h) * w, from = rp + m * hw + p * w
                            for q in 0..<(w - sw) { g[to + sw + q] += from[q] }
                            for q in (w - sw)..<w { g[to + q - (w - sw)] += from[q] }
                        }
                    }
                }
            }
        }}
        if parameterGradients, let bias {
            bias.grad.data.withUnsafeMutableBufferPointer { gb in
                for img in 0..<n {
                    for oc in 0..<o { gb[oc] += dys[2 * (img * o + oc)] }
                }
            }
        }
    }

    /// Grows a work buffer to at least `count` values; returns whether it was reallocated (contents lost).
    @discardableResult
    private func grow(_ buffer: inout [Float], _ count: Int) -> Bool {
        guard buffer.count < count else { return false }
        buffer = [Float](repeating: 0, count: count)
        return true
    }
}

extension CircularConv2D {
    /// Images per block in the conversions between image-major and frequency-major spectra: a block's
    /// spectra (`32·H·(W/2+1)` complex, 139 KiB at 32×32) stay in L2 between the FFT and the
    /// reordering, so the full-size spectra cross memory once instead of three times, and each
    /// frequency's row is touched 256 contiguous bytes at a time (with 16 images the conversions took ~1.5× as long).
    static let conversionBlock = 32

    /// Unnormalized half spectra of `images` real `h×w` images, written frequency-major
    /// (`[F, images]` complex) into `out`, so each frequency's channel matrix is contiguous for
    /// `cgemm`. Works block by block (FFT of `conversionBlock` images, then their columns of `out`).
    static func spectrumFrequencyMajor(_ real: UnsafePointer<Float>, images: Int, h: Int, w: Int,
                                       into out: UnsafeMutablePointer<Float>) throws {
        let f = h * (w / 2 + 1), block = conversionBlock
        // Plan once on this thread (the only step that can fail); the cached plan is then reused by
        // the parallel chunks, whose execute calls cannot fail.
        try FFT.forwardReal(real, out, batch: 0, h: h, w: w)
        Parallel.forChunks((images + block - 1) / block) { range in
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: 2 * block * f)
            defer { buffer.deallocate() }
            for b in range {
                let first = b * block, count = min(block, images - first)
                try? FFT.forwardReal(real + first * h * w, buffer, batch: count, h: h, w: w)
                Kernels.transpose(buffer, rows: count, columns: f, sourceStride: f, into: out + 2 * first,
                                  destinationStride: images, complex: true)
            }
        }
    }

    /// Inverse of `spectrumFrequencyMajor` including the `1/(h·w)` normalization: `[F, images]`
    /// complex → `images` real `h×w` images written into `real`.
    static func realFromFrequencyMajor(_ spectrum: UnsafePointer<Float>, images: Int, h: Int, w: Int,
                                       into real: UnsafeMutablePointer<Float>) throws {
        let f = h * (w / 2 + 1), block = conversionBlock
        let scale = 1 / Float(h * w)
        try FFT.inverseReal(spectrum, real, batch: 0, h: h, w: w)  // plan on this thread, see above
        Parallel.forChunks((images + block - 1) / block) { range in
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: 2 * block * f)
            defer { buffer.deallocate() }
            for b in range {
                let first = b * block, count = min(block, images - first)
                Kernels.transpose(spectrum + 2 * first, rows: f, columns: count, sourceStride: images, into: buffer,
                                  destinationStride: f, complex: true)
                try? FFT.inverseReal(buffer, real + first * h * w, batch: count, h: h, w: w, scale: scale)
            }
        }
    }
}
