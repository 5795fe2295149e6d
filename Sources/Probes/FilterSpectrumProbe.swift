import Networks
import TensorCore
import Trials

/// Filter spectrum (Petrini et al. 2021; docs/SCIENCE.md §4.3): each 3×3 filter of each 3×3
/// convolution projected on the 9 eigenvectors `Ψ_λ` of the graph Laplacian of the 3×3 grid
/// (4-neighbour), `c_λ = mean over the O·C filters of (w·Ψ_λ)²`.
///
/// Eigenvectors are the products `v_a ⊗ v_b` of the path-graph eigenvectors `v_0 = (1,1,1)/√3` (λ 0),
/// `v_1 = (1,0,−1)/√2` (λ 1), `v_2 = (1,−2,1)/√6` (λ 3), eigenvalue `λ_a + λ_b`, sorted ascending:
/// 0, 1, 1, 2, 3, 3, 4, 4, 6.
///
/// Outputs: `filter_spectrum.coefficients` `[L, 9]` (layers in model order), `filter_spectrum.eigenvalues`
/// `[9]`, scalar `filter_spectrum.layers`; when the initial weights are known (a `ProbeSuite` records them
/// in `begin`), `filter_spectrum.ratio` `[L, 9]` = `c_λ(t)/c_λ(0)`. Models without 3×3 convolutions
/// (ConvActually) give `layers = 0` and no arrays.
public final class FilterSpectrumProbe: Probe {
    /// Registry name (also the prefix of most result names).
    public static let probeName = ProbeName.filterSpectrum.rawValue
    public var name: String { Self.probeName }
    public let parameterNames: Set<String> = []
    /// Coefficients at initialization, `[L, 9]`, set by the suite before training.
    public var initial: Tensor?

    /// A fresh instance (no cached state).
    public init() {}

    public func run(model: Model, data: ProbeData, options: ProbeOptions) throws -> ProbeResult {
        Self.spectrum(model, initial: initial)
    }

    /// The 9 eigenvectors (rows, each a row-major 3×3 filter) and eigenvalues, ascending.
    public static func laplacianBasis() -> (vectors: [[Float]], eigenvalues: [Float]) {
        let s3 = Float(3).squareRoot(), s2 = Float(2).squareRoot(), s6 = Float(6).squareRoot()
        let path: [([Float], Float)] = [([1 / s3, 1 / s3, 1 / s3], 0), ([1 / s2, 0, -1 / s2], 1), ([1 / s6, -2 / s6, 1 / s6], 3)]
        var pairs: [(vector: [Float], lambda: Float, key: Int)] = []
        for a in 0..<3 {
            for b in 0..<3 {
                var v = [Float](repeating: 0, count: 9)
                for r in 0..<3 { for c in 0..<3 { v[r * 3 + c] = path[a].0[r] * path[b].0[c] } }
                pairs.append((v, path[a].1 + path[b].1, a * 3 + b))
            }
        }
        pairs.sort { ($0.lambda, $0.key) < ($1.lambda, $1.key) }
        return (pairs.map(\.vector), pairs.map(\.lambda))
    }

    /// Coefficients `[L, 9]` of every 3×3 `Conv2D` of the model (nil when there is none).
    public static func coefficients(_ model: Model) -> Tensor? {
        let basis = laplacianBasis().vectors
        var rows: [Float] = []
        var layers = 0
        for case let conv as Conv2D in model.network.layers where conv.kernel == 3 {
            let w = conv.weight.value.data
            let filters = conv.outChannels * conv.inChannels
            var c = [Double](repeating: 0, count: 9)
            for f in 0..<filters {
                for (l, psi) in basis.enumerated() {
                    var dot: Float = 0
                    for q in 0..<9 { dot += w[f * 9 + q] * psi[q] }
                    c[l] += Double(dot * dot)
                }
            }
            rows += c.map { Float($0 / Double(filters)) }
            layers += 1
        }
        return layers == 0 ? nil : Tensor(uncheckedShape: [layers, 9], data: rows)
    }

    static func spectrum(_ model: Model, initial: Tensor?) -> ProbeResult {
        var r = ProbeResult()
        guard let coef = coefficients(model) else {
            r.scalars[ProbeOutput.filterSpectrumLayers] = 0
            return r
        }
        r.scalars[ProbeOutput.filterSpectrumLayers] = Double(coef.shape[0])
        r.arrays[ProbeOutput.filterSpectrumCoefficients] = coef
        r.arrays[ProbeOutput.filterSpectrumEigenvalues] = SensitivityProbe.vector(laplacianBasis().eigenvalues)
        if let initial, initial.shape == coef.shape {
            r.arrays[ProbeOutput.filterSpectrumRatio] = Tensor(uncheckedShape: coef.shape,
                data: zip(coef.data, initial.data).map { $1 > 0 ? $0 / $1 : .nan })
        }
        return r
    }
}
