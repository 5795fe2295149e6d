import Foundation
import Networks
import TensorCore

/// Relative stability to diffeomorphisms (Petrini et al. NeurIPS 2021; SCIENCE.md §4).
///
/// For each evaluation image one random deformation `τ` at the temperature of typical displacement
/// `delta`, and Gaussian noise `η` rescaled to `‖η‖ = ‖τx − x‖` (no clipping). With `f` the logits:
/// `D_f = median ‖f(τx) − f(x)‖² / median ‖f(x1) − f(x2)‖²`, `G_f` the same with `x + η`, `R_f = D_f / G_f`.
/// Pairs `(x1, x2)` are consecutive images of a seeded permutation (cyclic). Parameters: `delta`
/// (pixels, default 1), `cutoff` (c, default 3), `temperature` (overrides `delta`). Images: a seeded
/// class-balanced subset of `images` test images (default 500).
///
/// Scalars: `diffeo_stability.D_f`, `.G_f`, `.R_f`, `.temperature`, `.delta` (requested, from T by the
/// paper's formula), `.delta_applied` (RMS pixel displacement of the fields actually drawn), `.T_min`,
/// `.T_max`, `.images`. Also the outputs of `filter_spectrum` (with the ratio when run by a `ProbeSuite`).
public final class DiffeoStabilityProbe: Probe {
    /// Registry name (also the prefix of most result names).
    public static let probeName = "diffeo_stability"
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
        let k = f0.shape[1]
        func dist2(_ a: Tensor, _ i: Int, _ b: Tensor, _ j: Int) -> Double {
            var s = 0.0
            for l in 0..<k { let d = Double(a.data[i * k + l] - b.data[j * k + l]); s += d * d }
            return s
        }
        var prng = SeededRNG(seed: SeededRNG.derive(options.seed, "diffeo.pairs"))
        let perm = prng.permutation(count)
        let denom = Self.median((0..<count).map { dist2(f0, perm[$0], f0, perm[($0 + 1) % count]) })
        let dMed = Self.median((0..<count).map { dist2(fd, $0, f0, $0) })
        let gMed = Self.median((0..<count).map { dist2(fg, $0, f0, $0) })
        let bounds = Diffeomorphism.temperatureBounds(n: n, c: Double(c))
        var r = ProbeResult()
        r.scalars["diffeo_stability.D_f"] = dMed / denom
        r.scalars["diffeo_stability.G_f"] = gMed / denom
        r.scalars["diffeo_stability.R_f"] = dMed / gMed
        r.scalars["diffeo_stability.temperature"] = t
        r.scalars["diffeo_stability.delta"] = Diffeomorphism.typicalDisplacement(temperature: t, n: n, c: Double(c))
        r.scalars["diffeo_stability.delta_applied"] = (sq / Double(count)).squareRoot()
        r.scalars["diffeo_stability.T_min"] = bounds.min
        r.scalars["diffeo_stability.T_max"] = bounds.max
        r.scalars["diffeo_stability.images"] = Double(count)
        r.merge(FilterSpectrumProbe.spectrum(model, initial: initialFilterSpectrum))
        return r
    }

    /// Median (mean of the two middle values for an even count).
    static func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        guard !s.isEmpty else { return .nan }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
