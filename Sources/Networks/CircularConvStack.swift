import TensorCore

/// Full-image circular convolutions applied one after the other with nothing in between (ConvActually
/// with `activation: linear`), computed in the Fourier domain from the first layer to the last.
///
/// Each `CircularConv2D` is diagonal in the unnormalized DFT: `Y_l(k) = X_l(k)·W̃_l(k)ᴴ + δ_{k0}·H·W·b_l`,
/// and the next layer's input spectrum is `X_{l+1} = Y_l`. The stack therefore takes one rFFT of the
/// input, the per-frequency products of every layer, and one inverse rFFT at the end — instead of an
/// inverse and a forward transform between every two layers. Backward likewise: `DY_L = DFT(dy)`, then
/// per layer `DY_{l−1} = DX_l = DY_l·W̃_l` (the gradient never leaves the Fourier domain), the weight
/// gradient `DW̃_l = Σ_n conj(DY_l)·X_l` (back to space per layer) and `db_l = Re Σ_n DY_l(0)`;
/// `dx = IDFT(DX_1)`. Same function as `Sequential(convs)`, up to Float32 rounding.
///
/// The layers keep their parameters (same objects, same names `convs.i.weight`, `convs.i.bias`), so a
/// checkpoint does not depend on whether the model chains them.
///
/// Shapes: x `[N, C_0, H, W]` → y `[N, O_last, H, W]`.
public final class CircularConvStack: Layer {
    /// The chained layers, in order; each one's `inChannels` is the previous one's `outChannels`.
    public let convs: [CircularConv2D]

    /// Batch size of the last forward pass.
    private var cachedBatch = -1
    /// Frequency-major spectra of the last forward pass, one flat buffer: the input of every layer
    /// (`[F, N, C_l]` complex at `offsets[l]`, kept for the weight gradients) and the output
    /// (`[F, N, O_last]` at `offsets[L]`).
    private var spectra: [Float] = []
    /// Two gradient spectra (current and previous layer), `2·F·N·maxChannels` floats each (backward).
    private var gradients: [Float] = []

    /// Chains `convs`; they must share the image size and match channel counts.
    public init(_ convs: [CircularConv2D]) throws {
        guard !convs.isEmpty else { throw TensorError(.invalidArgument, "CircularConvStack needs at least one layer") }
        for (a, b) in zip(convs, convs.dropFirst()) where a.outChannels != b.inChannels || a.height != b.height || a.width != b.width {
            throw TensorError(.invalidArgument,
                              "CircularConvStack: \(a.name) gives \(a.outChannels)×\(a.height)×\(a.width), \(b.name) expects \(b.inChannels)×\(b.height)×\(b.width)")
        }
        self.convs = convs
    }

    public var parameters: [Parameter] { convs.flatMap(\.parameters) }

    private var height: Int { convs[0].height }
    private var width: Int { convs[0].width }
    private var frequencies: Int { height * (width / 2 + 1) }
    /// Channels entering layer `l` (`l == convs.count`: the output channels).
    private func channels(_ l: Int) -> Int { l < convs.count ? convs[l].inChannels : convs[convs.count - 1].outChannels }
    private var maxChannels: Int { (0...convs.count).map(channels).max() ?? 1 }
    /// Start of layer `l`'s input spectrum in `spectra` for a batch of `n`.
    private func offset(_ l: Int, batch n: Int) -> Int { (0..<l).reduce(0) { $0 + 2 * frequencies * n * channels($1) } }

    /// `[N, C_0, H, W] → [N, O_last, H, W]`.
    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        let h = height, w = width, layers = convs.count
        try x.expectShape([-1, channels(0), h, w], "\(convs[0].name)… (CircularConvStack) input")
        let n = x.shape[0], out = channels(layers)
        var y = Tensor(zeros: [n, out, h, w])
        cachedBatch = n
        guard n > 0 else { return y }

        for conv in convs { try conv.refreshWeightSpectrum() }
        grow(&spectra, offset(layers + 1, batch: n))
        try x.data.withUnsafeBufferPointer { xb in
        try y.data.withUnsafeMutableBufferPointer { yb in
        try spectra.withUnsafeMutableBufferPointer { sb in
            // Non-empty buffers (n > 0, every dimension positive, grown above), so base addresses exist.
            let sp = sb.baseAddress!
            try CircularConv2D.spectrumFrequencyMajor(xb.baseAddress!, images: n * channels(0), h: h, w: w, into: sp)
            for l in 0..<layers {
                convs[l].multiplySpectra(sp + offset(l, batch: n), batch: n, into: sp + offset(l + 1, batch: n))
            }
            try CircularConv2D.realFromFrequencyMajor(sp + offset(layers, batch: n), images: n * out, h: h, w: w,
                                                      into: yb.baseAddress!)
        }}}
        return y
    }

    /// `dL/dy [N, O_last, H, W] → dL/dx [N, C_0, H, W]`; adds every layer's dL/dW and dL/db when
    /// `parameterGradients`.
    public func backward(_ dy: Tensor, parameterGradients: Bool) throws -> Tensor {
        guard cachedBatch >= 0 else {
            throw TensorError(.invalidArgument, "\(convs[0].name)… (CircularConvStack): backward called before forward")
        }
        let n = cachedBatch, h = height, w = width, layers = convs.count
        try dy.expectShape([n, channels(layers), h, w], "\(convs[0].name)… (CircularConvStack) output gradient")
        var dx = Tensor(zeros: [n, channels(0), h, w])
        guard n > 0 else { return dx }

        let half = 2 * frequencies * n * maxChannels
        grow(&gradients, 2 * half)
        try dy.data.withUnsafeBufferPointer { dyb in
        try dx.data.withUnsafeMutableBufferPointer { dxb in
        try gradients.withUnsafeMutableBufferPointer { gb in
        try spectra.withUnsafeBufferPointer { sb in
            // Non-empty buffers (n > 0, every dimension positive, grown above), so base addresses exist.
            let sp = sb.baseAddress!
            var current = gb.baseAddress!, previous = current + half
            try CircularConv2D.spectrumFrequencyMajor(dyb.baseAddress!, images: n * channels(layers), h: h, w: w, into: current)
            for l in stride(from: layers - 1, through: 0, by: -1) {
                try convs[l].multiplyGradientSpectra(current, inputs: sp + offset(l, batch: n), batch: n, into: previous,
                                                     parameterGradients: parameterGradients)
                swap(&current, &previous)
            }
            try CircularConv2D.realFromFrequencyMajor(current, images: n * channels(0), h: h, w: w, into: dxb.baseAddress!)
        }}}}
        return dx
    }

    /// Grows a work buffer to at least `count` values (contents are not kept).
    private func grow(_ buffer: inout [Float], _ count: Int) {
        if buffer.count < count { buffer = [Float](repeating: 0, count: count) }
    }
}
