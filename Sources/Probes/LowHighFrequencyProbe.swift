import Datasets
import Networks
import TensorCore

/// Accuracy on low- and high-frequency components (Wang et al. CVPR 2020; SCIENCE.md §3).
///
/// Per channel, with the circular mask `M_r = [sqrt(ky² + kx²) < r]` on the centred spectrum `F`:
/// `LFC_r = Re(IFFT(M_r·F))`, `HFC_r = Re(IFFT((1 − M_r)·F))` (orthonormal FFTW transforms). The
/// unclipped parts add up to the image exactly. Before evaluation the default clips each part to [0, 1];
/// `compat: paper` rescales each filtered image by `x / max(x)` (max over all its pixels and channels;
/// an image with max ≤ 0 is left unchanged). Parameters: `radii` (default [4, 8, 12, 16]).
/// Images: a seeded class-balanced subset of `images` test images (default: the whole test split).
///
/// Outputs `[R]`: `lfc_hfc.radii`, `lfc_hfc.lfc_accuracy`, `lfc_hfc.hfc_accuracy`; scalars
/// `lfc_hfc.lfc.r<r>` and `lfc_hfc.hfc.r<r>` per radius.
public final class LowHighFrequencyProbe: Probe {
    /// Registry name (also the prefix of most result names).
    public static let probeName = "lfc_hfc"
    public var name: String { Self.probeName }
    public let parameterNames: Set<String> = ["radii"]
    public static let defaultRadii: [Double] = [4, 8, 12, 16]

    /// A fresh instance (no cached state).
    public init() {}

    public func run(model: Model, data: ProbeData, options: ProbeOptions) throws -> ProbeResult {
        let test = try data.requireTest(name, model: model)
        let set = try ProbeData.subset(test, try options.imageCount(test.count), seed: options.seed, "lfc_hfc.subset")
        let radii = try options.doubles("radii", Self.defaultRadii)
        guard !radii.isEmpty, radii.allSatisfy({ $0 > 0 && $0 == $0.rounded() }) else {
            throw ProbeError(.invalidParameter, "lfc_hfc: radii must be positive integers, got \(radii)")
        }
        var r = ProbeResult()
        var lfcAcc: [Float] = [], hfcAcc: [Float] = []
        for radius in radii {
            let (low, high) = try Self.split(set.images, radius: Int(radius))
            let a = try ModelEvaluation.accuracy(model, x: Self.prepare(low, compat: options.compat), y: set.labels)
            let b = try ModelEvaluation.accuracy(model, x: Self.prepare(high, compat: options.compat), y: set.labels)
            lfcAcc.append(Float(a)); hfcAcc.append(Float(b))
            r.scalars["lfc_hfc.lfc.r\(Int(radius))"] = a
            r.scalars["lfc_hfc.hfc.r\(Int(radius))"] = b
        }
        r.arrays["lfc_hfc.radii"] = SensitivityProbe.vector(radii.map(Float.init))
        r.arrays["lfc_hfc.lfc_accuracy"] = SensitivityProbe.vector(lfcAcc)
        r.arrays["lfc_hfc.hfc_accuracy"] = SensitivityProbe.vector(hfcAcc)
        return r
    }

    /// Unclipped low- and high-frequency components of `[N, C, H, W]` images at radius `r`.
    public static func split(_ images: Tensor, radius: Int) throws -> (low: Tensor, high: Tensor) {
        let low = try FrequencyFilter(kind: .lowPass, shape: .circle, cutoff: radius).apply(images)
        let high = try FrequencyFilter(kind: .highPass, shape: .circle, cutoff: radius).apply(images)
        return (low, high)
    }

    /// Clip to [0, 1] (clean) or divide each image by its maximum (paper).
    public static func prepare(_ x: Tensor, compat: ProbeOptions.Compat) -> Tensor {
        var out = x
        switch compat {
        case .clean:
            for q in 0..<out.count { out.data[q] = min(1, max(0, out.data[q])) }
        case .paper:
            let n = x.shape[0], inner = x.count / max(1, n)
            for i in 0..<n {
                let m = x.data[(i * inner)..<((i + 1) * inner)].max() ?? 0
                guard m > 0 else { continue }
                for q in (i * inner)..<((i + 1) * inner) { out.data[q] = x.data[q] / m }
            }
        }
        return out
    }
}
