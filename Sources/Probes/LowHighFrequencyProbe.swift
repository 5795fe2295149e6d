import Datasets
import Networks
import TensorCore
import Trials

/// Accuracy on low- and high-frequency components (Wang et al. CVPR 2020; docs/SCIENCE.md §3).
///
/// Per channel, with the circular mask `M_r = [sqrt(ky² + kx²) < r]` on the centred spectrum `F`:
/// `LFC_r = Re(IFFT(M_r·F))`, `HFC_r = Re(IFFT((1 − M_r)·F))` (orthonormal FFTW transforms); the two add
/// up to the image exactly. The default evaluates the model on these real-valued images as they are (no
/// clipping: an HFC image is zero-mean, and the model holds its own input normalization); `compat: paper`
/// divides each filtered image by its maximum over pixels and channels, `x / max(x)`, as the published
/// code does (`FrequencyFilter.OutputRange`).
///
/// Parameter `radii`: positive integers, each at most the Nyquist radius `H/2` (checked before a sweep
/// starts, `validate(_:imageSize:)`); default `defaultRadii(imageSize:)`, 4, 8, 12, 16 for 32 px.
/// Images: a seeded class-balanced subset of `images` test images (default: the whole test split).
///
/// Outputs `[R]`: `lfc_hfc.radii`, `lfc_hfc.lfc_accuracy`, `lfc_hfc.hfc_accuracy`; scalars
/// `lfc_hfc.lfc.r<r>` and `lfc_hfc.hfc.r<r>` per radius (names in `ProbeOutput`).
public final class LowHighFrequencyProbe: Probe {
    /// Registry name (also the prefix of most result names).
    public static let probeName = ProbeName.lfcHfc.rawValue
    public var name: String { Self.probeName }
    public let parameterNames: Set<String> = ["radii"]

    /// A fresh instance (no cached state).
    public init() {}

    /// The published radii 4, 8, 12, 16 of 32-px images scaled to `imageSize`: `round(k·N/4)` for k = 1…4
    /// with `N = ⌊H/2⌋` the Nyquist radius (16 px: 2, 4, 6, 8; 28 px: 4, 7, 11, 14; 64 px: 8, 16, 24, 32),
    /// halves rounded up, duplicates and zeros dropped. The largest is `N` itself, where the HFC still holds
    /// the ring edge and the corners.
    public static func defaultRadii(imageSize: Int) -> [Int] {
        let nyquist = imageSize / 2
        var out: [Int] = []
        for k in 1...4 {
            let r = Int((Double(k * nyquist) / 4).rounded())
            if r > 0 && !out.contains(r) { out.append(r) }
        }
        return out
    }

    /// The radii a request asks for on `imageSize`-px images, checked: positive integers not past the
    /// Nyquist radius `imageSize / 2` (beyond it the HFC is empty or holds only the corners, and its
    /// accuracy says nothing about the model). Errors name the key `params.radii`.
    public static func radii(_ options: ProbeOptions, imageSize: Int) throws -> [Int] {
        guard options.params["radii"] != nil else { return defaultRadii(imageSize: imageSize) }
        let given = try options.doubles("radii", [])
        guard !given.isEmpty else { throw ProbeError(.invalidParameter, "params.radii: give at least one radius") }
        let nyquist = imageSize / 2
        for r in given {
            guard r > 0, r == r.rounded() else {
                throw ProbeError(.invalidParameter, "params.radii: radii must be positive integers, got \(format(r))")
            }
            guard r <= Double(nyquist) else {
                let fallback = defaultRadii(imageSize: imageSize).map(String.init).joined(separator: ", ")
                throw ProbeError(.invalidParameter, "params.radii: \(format(r)) is past the Nyquist radius \(nyquist) of \(imageSize)-px images "
                                 + "(use radii ≤ \(nyquist), or leave radii out for \(fallback))")
            }
        }
        return given.map { Int($0) }
    }

    public func validate(_ options: ProbeOptions, imageSize: Int) throws {
        _ = try Self.radii(options, imageSize: imageSize)
    }

    public func run(model: Model, data: ProbeData, options: ProbeOptions) throws -> ProbeResult {
        let test = try data.requireTest(name, model: model)
        let set = try ProbeData.subset(test, try options.imageCount(test.count), seed: options.seed, "lfc_hfc.subset")
        let radii: [Int]
        do { radii = try Self.radii(options, imageSize: min(set.height, set.width)) } catch let e as ProbeError { throw e.keyed(name) }
        var r = ProbeResult()
        var lfcAcc: [Float] = [], hfcAcc: [Float] = []
        for radius in radii {
            let (low, high) = try Self.components(set.images, radius: radius, compat: options.compat)
            let a = try ModelEvaluation.accuracy(model, x: low, y: set.labels)
            let b = try ModelEvaluation.accuracy(model, x: high, y: set.labels)
            lfcAcc.append(Float(a)); hfcAcc.append(Float(b))
            r.scalars[ProbeOutput.lfcAccuracy(radius: radius)] = a
            r.scalars[ProbeOutput.hfcAccuracy(radius: radius)] = b
        }
        r.arrays[ProbeOutput.lfcHfcRadii] = SensitivityProbe.vector(radii.map(Float.init))
        r.arrays[ProbeOutput.lfcAccuracy] = SensitivityProbe.vector(lfcAcc)
        r.arrays[ProbeOutput.hfcAccuracy] = SensitivityProbe.vector(hfcAcc)
        return r
    }

    /// The low- and high-frequency components of `[N, C, H, W]` images at radius `r`, exactly as the model
    /// sees them: unchanged (clean) or each divided by its maximum (paper).
    public static func components(_ images: Tensor, radius: Int, compat: ProbeOptions.Compat) throws -> (low: Tensor, high: Tensor) {
        let range: FrequencyFilter.OutputRange = compat == .paper ? .paperRescale : .unchanged
        let low = try FrequencyFilter(kind: .lowPass, shape: .circle, cutoff: radius).apply(images, range: range)
        let high = try FrequencyFilter(kind: .highPass, shape: .circle, cutoff: radius).apply(images, range: range)
        return (low, high)
    }

    static func format(_ r: Double) -> String { r == r.rounded() && abs(r) < 1e15 ? String(Int(r)) : String(r) }
}
