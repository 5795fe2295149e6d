import Datasets
import Foundation
import Networks
import TensorCore
import Trials

/// Gradient frequency sensitivity (Godfrey et al. 2022; docs/SCIENCE.md §1).
///
/// `S[c,i,j] = mean_x ‖(|FFT2_ortho(∂f_l/∂x_c)(x)[i,j]|)_l‖_2` over the evaluation images, plus the `rms`
/// variant `sqrt(mean_l |·|²)`. Per batch: one forward pass, then the K one-hot cotangents go backward
/// together (`Layer.inputGradients`, no parameter gradients; sparse behind max pools); each gradient goes through FFTW's real-to-complex transform (orthonormal)
/// and the half spectrum is expanded by Hermitian symmetry (`|X[i,j]| = |X[−i,−j]|` for real input).
/// An affine model (`Model.isAffine`: a linear ConvActually) has the same gradients for every image, so
/// they are computed once.
///
/// Images: `data.images` when given (exactly those), else a seeded class-balanced subset of `images`
/// test images (default: the whole test split). Parameters: `smooth` (Bool, default true: the figure
/// smoothing of §1.4 for the log profiles and the alignment correlations; the slope never smooths),
/// `spectrum_images` (default 5000).
///
/// Outputs (names in `ProbeOutput`; maps in numpy fft2 order, DC at `[c, 0, 0]`; profiles binned by
/// `RadialProfile` with the request's compat, all `[R]` on the same bins):
/// - `sensitivity.map`, `sensitivity.rms_map` `[C, H, W]`
/// - `sensitivity.radial`, `sensitivity.rms_radial`, `sensitivity.radii` `[R]`
/// - `data_spectrum.map` `[C, H, W]`, `data_spectrum.radial` `[R]` (training split, normalized, or the
///   evaluation images when no training split is given)
/// - `sensitivity.log_profile`, `data_spectrum.log_profile` `[R]`: the figure curves (normalized,
///   smoothed, log; §1.4)
/// - scalars `alignment.slope` (the headline: least-squares slope of log sensitivity on log data spectrum),
///   `alignment.pearson`, `alignment.spearman`, `alignment.shells` (§1.5), `sensitivity.centroid` (mean
///   radius of the sensitivity mass, cycles per image), `sensitivity.images`
public final class SensitivityProbe: Probe {
    /// Registry name (also the prefix of most result names).
    public static let probeName = ProbeName.sensitivity.rawValue
    public var name: String { Self.probeName }
    public let parameterNames: Set<String> = ["smooth", "spectrum_images"]

    /// A fresh instance (no cached state).
    public init() {}

    public func run(model: Model, data: ProbeData, options: ProbeOptions) throws -> ProbeResult {
        let x: Tensor
        if let given = data.images {
            try ProbeData.checkFits(given, model: model, name)
            x = given
        } else {
            let test = try data.requireTest(name, model: model)
            let n = try options.imageCount(test.count)
            x = try ProbeData.subset(test, n, seed: options.seed, "sensitivity.subset").images
        }
        guard x.shape[0] > 0 else { throw ProbeError(.invalidData, "sensitivity needs at least one image") }
        let maps = try Self.maps(model, x)
        let compat: RadialProfile.Compat = options.compat == .paper ? .paper : .clean
        let radial = try RadialProfile.compute(maps.map, compat: compat)
        let rmsRadial = try RadialProfile.compute(maps.rms, compat: compat)

        let spectrumSource = data.train?.images ?? x
        try ProbeData.checkFits(spectrumSource, model: model, "data spectrum")
        let spectrumImages = try options.int("spectrum_images", DataSpectrum.defaultImages)
        let dataMap = try DataSpectrum.compute(spectrumSource, stats: data.spectrumStats(model: model), maxImages: spectrumImages)
        let dataRadial = try RadialProfile.compute(dataMap, compat: compat)

        let smoothed = try options.bool("smooth", true)
        let alignment = ProfileStatistics.alignment(radii: radial.radii, sensitivity: radial.values, data: dataRadial.values,
                                                    nyquist: Double(min(x.shape[2], x.shape[3])) / 2, smoothed: smoothed)

        var r = ProbeResult()
        r.arrays[ProbeOutput.sensitivityMap] = maps.map
        r.arrays[ProbeOutput.sensitivityRMSMap] = maps.rms
        r.arrays[ProbeOutput.sensitivityRadial] = Self.vector(radial.values)
        r.arrays[ProbeOutput.sensitivityRMSRadial] = Self.vector(rmsRadial.values)
        r.arrays[ProbeOutput.sensitivityRadii] = Self.vector(radial.radii.map(Float.init))
        r.arrays[ProbeOutput.dataSpectrumMap] = dataMap
        r.arrays[ProbeOutput.dataSpectrumRadial] = Self.vector(dataRadial.values)
        r.arrays[ProbeOutput.sensitivityLogProfile] = Self.vector(ProfileStatistics.figureCurve(radial.values, smoothed: smoothed).map(Float.init))
        r.arrays[ProbeOutput.dataSpectrumLogProfile] = Self.vector(ProfileStatistics.figureCurve(dataRadial.values, smoothed: smoothed).map(Float.init))
        r.scalars[ProbeOutput.alignmentSlope] = alignment.slope
        r.scalars[ProbeOutput.alignmentPearson] = alignment.pearson
        r.scalars[ProbeOutput.alignmentSpearman] = alignment.spearman
        r.scalars[ProbeOutput.alignmentShells] = Double(alignment.shells)
        r.scalars[ProbeOutput.sensitivityCentroid] = Self.centroid(maps.map)
        r.scalars[ProbeOutput.sensitivityImages] = Double(x.shape[0])
        return r
    }

    static func vector(_ v: [Float]) -> Tensor { Tensor(uncheckedShape: [v.count], data: v) }

    /// Mean radius `sqrt(ky² + kx²)` (signed fft2 frequencies) weighted by a `[C, H, W]` map.
    public static func centroid(_ map: Tensor) -> Double {
        let c = map.shape[0], h = map.shape[1], w = map.shape[2]
        var num = 0.0, den = 0.0
        for ch in 0..<c {
            for i in 0..<h {
                let ky = Double(i < (h + 1) / 2 ? i : i - h)
                for j in 0..<w {
                    let kx = Double(j < (w + 1) / 2 ? j : j - w)
                    let v = Double(map.data[(ch * h + i) * w + j])
                    num += v * (ky * ky + kx * kx).squareRoot()
                    den += v
                }
            }
        }
        return den > 0 ? num / den : .nan
    }

    /// The sensitivity map and its rms variant, `[C, H, W]` each, averaged over the images of `x`.
    ///
    /// For an affine model (`Model.isAffine`, e.g. ConvActually with `activation: linear`) `∂f_l/∂x` is the
    /// same for every image, so the K gradients are computed once (one forward on the first image, K
    /// backward passes) and stand for all `n` images: the mean of a constant is that constant.
    public static func maps(_ model: Model, _ x: Tensor, batchSize: Int = ModelEvaluation.gradientBatchSize) throws -> (map: Tensor, rms: Tensor) {
        try maps(model, x, batchSize: batchSize, path: .automatic)
    }

    /// How `maps` obtains the per-class gradients (tests force one or the other).
    enum GradientPath {
        /// `.once` for affine models, else `.perImage`.
        case automatic
        /// One forward per batch and K backward passes: right for every model.
        case perImage
        /// The gradients of the first image stand for every image: right only for affine models.
        case once
    }

    static func maps(_ model: Model, _ x: Tensor, batchSize: Int, path: GradientPath) throws -> (map: Tensor, rms: Tensor) {
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        let wc = w / 2 + 1, halfPlane = h * wc
        let k = model.config.classes
        var sumNorm = [Double](repeating: 0, count: c * halfPlane)
        var sumRMS = [Double](repeating: 0, count: c * halfPlane)
        let invK = 1 / Float(k)
        // Adds `weight` copies of each image's ‖·‖₂ and rms over the classes.
        func accumulate(_ power: [Float], images b: Int, weight: Double) {
            for i in 0..<b {
                for q in 0..<(c * halfPlane) {
                    let p = power[i * c * halfPlane + q]
                    sumNorm[q] += Double(p.squareRoot()) * weight
                    sumRMS[q] += Double((p * invK).squareRoot()) * weight
                }
            }
        }
        let once = n > 0 && (path == .once || (path == .automatic && model.isAffine))
        if once {
            // Double(Float) · n with n < 2⁲⁹ is exact, and so is the division by n below: the maps equal
            // the constant per-image values, as the per-image path would give them up to rounding of the
            // individual gradients.
            accumulate(try classPower(model, x.rows(0..<1)), images: 1, weight: Double(n))
        } else {
            var start = 0
            while start < n {
                let b = min(batchSize, n - start)
                accumulate(try classPower(model, x.rows(start..<(start + b))), images: b, weight: 1)
                start += b
            }
        }
        func expand(_ half: [Double]) -> Tensor {
            var out = Tensor(zeros: [c, h, w])
            for ch in 0..<c {
                for i in 0..<h {
                    for j in 0..<w {
                        // Hermitian symmetry of a real signal's spectrum: |X[i, j]| = |X[−i, −j]|.
                        let (si, sj) = j < wc ? (i, j) : ((h - i) % h, w - j)
                        out.data[(ch * h + i) * w + j] = Float(half[ch * halfPlane + si * wc + sj] / Double(n))
                    }
                }
            }
            return out
        }
        return (expand(sumNorm), expand(sumRMS))
    }

    /// `Σ_l |FFT2_ortho(∂f_l/∂x)|²` per (image, channel, half-spectrum bin) of a batch `[B, C, H, W]`:
    /// one forward pass, K backward passes; `[B·C·H·(W/2+1)]`.
    static func classPower(_ model: Model, _ xb: Tensor) throws -> [Float] {
        let b = xb.shape[0], c = xb.shape[1], h = xb.shape[2], w = xb.shape[3]
        let halfPlane = h * (w / 2 + 1)
        let scale = FFT.orthoScale(h, w)
        var power = [Float](repeating: 0, count: b * c * halfPlane)
        var spec = [Float](repeating: 0, count: 2 * b * c * halfPlane)
        try ModelEvaluation.forEachClassGradient(model, xb) { _, g in
            try g.data.withUnsafeBufferPointer { src in
                try spec.withUnsafeMutableBufferPointer { dst in
                    try FFT.forwardReal(src.baseAddress!, dst.baseAddress!, batch: b * c, h: h, w: w, scale: scale)
                }
            }
            spec.withUnsafeBufferPointer { s in
                power.withUnsafeMutableBufferPointer { p in
                    for q in 0..<p.count {
                        let re = s[2 * q], im = s[2 * q + 1]
                        p[q] += re * re + im * im
                    }
                }
            }
        }
        return power
    }
}
