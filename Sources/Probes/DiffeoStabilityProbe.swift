import Foundation
import Networks
import TensorCore
import Trials

/// Relative stability to diffeomorphisms (Petrini et al. NeurIPS 2021; docs/SCIENCE.md §4.2).
///
/// For each evaluation image one random deformation `τ` at the temperature of typical displacement
/// `delta`, and Gaussian noise `η` rescaled to `‖η‖ = ‖τx − x‖` (no clipping). With `f` the logits,
/// `D_f` (deformations) and `G_f` (noise) compare how far the perturbation moves `f` with how far apart
/// `f` puts two different images, and `R_f = D_f / G_f`; `ratios` gives the two definitions (the
/// default: medians of squared logit distances over images and over cyclic pairs of a seeded
/// permutation; `compat: paper`: the published code's per-logit medians and all-pairs denominator).
/// Parameters: `delta` (pixels, default 1), `cutoff` (c, default 3), `temperature` (overrides `delta`).
/// Images: a seeded class-balanced subset of `images` test images (default 500).
///
/// Scalars (names in `ProbeOutput`): `diffeo_stability.D_f`, `.G_f`, `.R_f`, `.temperature`, `.delta`
/// (requested, from T by the paper's formula), `.delta_applied` (RMS pixel displacement of the fields
/// actually drawn), `.T_min`, `.T_max`, `.images`. Also the outputs of `filter_spectrum` (with the ratio
/// when run by a `ProbeSuite`).
public final class DiffeoStabilityProbe: Probe {
    /// Registry name (also the prefix of most result names).
    public static let probeName = ProbeName.diffeoStability.rawValue
    public var name: String { Self.probeName }
    public let parameterNames: Set<String> = ["delta", "cutoff", "temperature"]
    /// Filter-spectrum coefficients at initialization (set by `ProbeSuite.begin`), for `filter_spectrum.ratio`.
    public var initialFilterSpectrum: Tensor?
    /// Evaluation images when the request gives none.
    public static let defaultImages = 500

    /// A fresh instance (no cached state).
    public init() {}

    public func run(model: Model, data: ProbeData, options: ProbeOptions) throws -> ProbeResult {
        let test = try data.requireTest(name, model: model)
        let set = try ProbeData.subset(test, try options.imageCount(Self.defaultImages), seed: options.seed, "diffeo.subset")
        guard set.height == set.width else { throw ProbeError(.invalidData, "diffeo_stability needs square images, got \(set.height)×\(set.width)") }
        guard set.count >= 2 else { throw ProbeError(.invalidData, "diffeo_stability needs at least 2 images") }
        let n = set.height
        let c = try options.int("cutoff", 3)
        guard c >= 2 else { throw ProbeError(.invalidParameter, "diffeo_stability: cutoff must be at least 2 (ln c > 0), got \(c)") }
        let delta = try options.double("delta", 1)
        let t = options.params["temperature"] != nil ? try options.double("temperature", 0)
            : Diffeomorphism.temperature(delta: delta, n: n, c: Double(c))
        guard t >= 0 else { throw ProbeError(.invalidParameter, "diffeo_stability: temperature must be ≥ 0, got \(t)") }

        var rng = SeededRNG(seed: SeededRNG.derive(options.seed, "diffeo.fields"))
        let count = set.count, inner = set.channels * n * n
        var warped = set.images, noisy = set.images
        var sq = 0.0
        for i in 0..<count {
            let tau = Diffeomorphism.random(n: n, temperature: t, cutoff: c, rng: &rng)
            sq += tau.rmsDisplacement * tau.rmsDisplacement
            set.images.data.withUnsafeBufferPointer { s in
                warped.data.withUnsafeMutableBufferPointer { d in
                    tau.apply(s.baseAddress! + i * inner, d.baseAddress! + i * inner, planes: set.channels)
                }
            }
            var diff = 0.0, eta = [Float](repeating: 0, count: inner), en = 0.0
            for q in 0..<inner {
                let d = Double(warped.data[i * inner + q] - set.images.data[i * inner + q])
                diff += d * d
                eta[q] = rng.normal()
                en += Double(eta[q]) * Double(eta[q])
            }
            let scale = en > 0 ? Float((diff / en).squareRoot()) : 0
            for q in 0..<inner { noisy.data[i * inner + q] = set.images.data[i * inner + q] + scale * eta[q] }
        }
        let f0 = try Evaluation.logits(model, x: set.images, batchSize: ModelEvaluation.batchSize)
        let fd = try Evaluation.logits(model, x: warped, batchSize: ModelEvaluation.batchSize)
        let fg = try Evaluation.logits(model, x: noisy, batchSize: ModelEvaluation.batchSize)
        let ratios = Self.ratios(clean: f0, deformed: fd, noisy: fg, compat: options.compat,
                                 pairSeed: SeededRNG.derive(options.seed, "diffeo.pairs"))
        let bounds = Diffeomorphism.temperatureBounds(n: n, c: Double(c))
        var r = ProbeResult()
        r.scalars[ProbeOutput.diffeoD] = ratios.d
        r.scalars[ProbeOutput.diffeoG] = ratios.g
        r.scalars[ProbeOutput.diffeoR] = ratios.r
        r.scalars[ProbeOutput.diffeoTemperature] = t
        r.scalars[ProbeOutput.diffeoDelta] = Diffeomorphism.typicalDisplacement(temperature: t, n: n, c: Double(c))
        r.scalars[ProbeOutput.diffeoDeltaApplied] = (sq / Double(count)).squareRoot()
        r.scalars[ProbeOutput.diffeoTMin] = bounds.min
        r.scalars[ProbeOutput.diffeoTMax] = bounds.max
        r.scalars[ProbeOutput.diffeoImages] = Double(count)
        r.merge(FilterSpectrumProbe.spectrum(model, initial: initialFilterSpectrum))
        return r
    }
}
