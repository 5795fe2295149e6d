import Datasets
import Networks
import TensorCore
import Trials

/// Fourier heatmap (Yin et al. 2019; docs/SCIENCE.md §2): error under additive Fourier-basis noise.
///
/// For each frequency, every evaluation image becomes `clip(x + v·r_c·U_ij, 0, 1)` with the same basis
/// image on every channel and an independent seeded sign `r_c ∈ {−1, +1}` per image and channel. Only one
/// frequency of each mirror pair is evaluated; the mirror's cell gets the same value (its basis image is
/// the same frequency, phase-shifted). Parameters: `v` (default 4, or 15.7 for images of 224 px and more).
/// Images: a seeded class-balanced subset of `images` test images (default 1000).
///
/// Outputs (`[H, W]` in numpy fft2 order, DC at `[0, 0]`; figures apply fftshift to get the centred grid):
/// - `fourier_heatmap.error` error rate, `fourier_heatmap.logit_change` mean `‖f(x′) − f(x)‖₂`
/// - scalars `fourier_heatmap.v`, `fourier_heatmap.clean_error`, `fourier_heatmap.mean_error`, `fourier_heatmap.images`
/// - plus everything of `filtered_accuracy` (the same evaluation images)
public final class FourierHeatmapProbe: Probe {
    /// Registry name (also the prefix of most result names).
    public static let probeName = ProbeName.fourierHeatmap.rawValue
    public var name: String { Self.probeName }
    public let parameterNames: Set<String> = ["v"]
    /// Evaluation images when the request gives none.
    public static let defaultImages = 1000

    /// A fresh instance (no cached state).
    public init() {}

    public func run(model: Model, data: ProbeData, options: ProbeOptions) throws -> ProbeResult {
        let test = try data.requireTest(name, model: model)
        let set = try ProbeData.subset(test, try options.imageCount(Self.defaultImages), seed: options.seed, "fourier_heatmap.subset")
        let size = set.height
        let v = try options.double("v", size >= 224 ? 15.7 : 4)
        var r = try Self.heatmap(model, set, v: v, seed: options.seed)
        r.merge(try FilteredAccuracyProbe.curves(model, set, compat: options.compat))
        return r
    }

    /// The heatmaps for the given (already subsampled) images.
    public static func heatmap(_ model: Model, _ set: ImageSet, v: Double, seed: UInt64) throws -> ProbeResult {
        let n = set.count, c = set.channels, h = set.height, w = set.width, plane = h * w
        let clean = try Evaluation.logits(model, x: set.images, batchSize: ModelEvaluation.batchSize)
        let k = clean.shape[1]
        let cleanPred = ModelEvaluation.argmax(clean)
        var error = Tensor(zeros: [h, w]), change = Tensor(zeros: [h, w])
        var rng = SeededRNG(seed: SeededRNG.derive(seed, "fourier_heatmap.signs"))
        let vf = Float(v)
        for (i, j) in FourierBasis.halfGrid(h: h, w: w) {
            let u = try FourierBasis.image(i, j, h: h, w: w)
            var x = set.images
            for img in 0..<n {
                for ch in 0..<c {
                    let a = (rng.next() & 1) == 0 ? vf : -vf
                    let base = (img * c + ch) * plane
                    for q in 0..<plane { x.data[base + q] = min(1, max(0, x.data[base + q] + a * u.data[q])) }
                }
            }
            let logits = try Evaluation.logits(model, x: x, batchSize: ModelEvaluation.batchSize)
            let pred = ModelEvaluation.argmax(logits)
            var wrong = 0, dist = 0.0
            for img in 0..<n {
                if pred[img] != set.labels[img] { wrong += 1 }
                var s = 0.0
                for l in 0..<k {
                    let d = Double(logits.data[img * k + l] - clean.data[img * k + l])
                    s += d * d
                }
                dist += s.squareRoot()
            }
            let (mi, mj) = FourierBasis.mirror(i, j, h: h, w: w)
            for (a, b) in [(i, j), (mi, mj)] {
                error.data[a * w + b] = Float(Double(wrong) / Double(n))
                change.data[a * w + b] = Float(dist / Double(n))
            }
        }
        var r = ProbeResult()
        r.arrays[ProbeOutput.fourierHeatmapError] = error
        r.arrays[ProbeOutput.fourierHeatmapLogitChange] = change
        r.scalars[ProbeOutput.fourierHeatmapV] = v
        r.scalars[ProbeOutput.fourierHeatmapImages] = Double(n)
        r.scalars[ProbeOutput.fourierHeatmapCleanError] = Double(zip(cleanPred, set.labels).filter { $0 != $1 }.count) / Double(n)
        r.scalars[ProbeOutput.fourierHeatmapMeanError] = error.data.reduce(0.0) { $0 + Double($1) } / Double(plane)
        return r
    }
}

/// Filtered-accuracy curves (Yin et al. 2019; docs/SCIENCE.md §2): accuracy on low-pass and high-pass
/// filtered test sets with a centred square window of side `B = 2, 4, …, H`.
///
/// Windows (signed frequencies `k`): clean `|ky|, |kx| ≤ B/2` (symmetric, so the filtered image is real;
/// at `B = H` it keeps everything); `compat: paper` the published `B×B` block `−B/2 ≤ k ≤ B/2 − 1` of the
/// fftshifted spectrum, real part taken. High-pass is the complement. Filtered images are not clipped.
/// Images: a seeded class-balanced subset of `images` test images (default 1000).
///
/// Outputs `[H/2]`: `filtered_accuracy.bandwidth` (B), `filtered_accuracy.lowpass`, `filtered_accuracy.highpass`.
public final class FilteredAccuracyProbe: Probe {
    /// Registry name (also the prefix of most result names).
    public static let probeName = ProbeName.filteredAccuracy.rawValue
    public var name: String { Self.probeName }
    public let parameterNames: Set<String> = []

    /// A fresh instance (no cached state).
    public init() {}

    public func run(model: Model, data: ProbeData, options: ProbeOptions) throws -> ProbeResult {
        let test = try data.requireTest(name, model: model)
        let set = try ProbeData.subset(test, try options.imageCount(FourierHeatmapProbe.defaultImages), seed: options.seed,
                                       "fourier_heatmap.subset")
        return try Self.curves(model, set, compat: options.compat)
    }

    /// The low-pass window for side `b` (high-pass = the same with `kind: .highPass`).
    public static func window(_ b: Int, kind: FrequencyFilter.Kind, compat: ProbeOptions.Compat) -> FrequencyFilter {
        switch compat {
        case .clean: FrequencyFilter(kind: kind, shape: .square, compat: .clean, cutoff: b / 2 + 1)
        case .paper: FrequencyFilter(kind: kind, shape: .square, compat: .paper, cutoff: b / 2)
        }
    }

    static func curves(_ model: Model, _ set: ImageSet, compat: ProbeOptions.Compat) throws -> ProbeResult {
        var bs: [Float] = [], low: [Float] = [], high: [Float] = []
        for b in stride(from: 2, through: set.height, by: 2) {
            bs.append(Float(b))
            let lp = try window(b, kind: .lowPass, compat: compat).apply(set.images)
            let hp = try window(b, kind: .highPass, compat: compat).apply(set.images)
            low.append(Float(try ModelEvaluation.accuracy(model, x: lp, y: set.labels)))
            high.append(Float(try ModelEvaluation.accuracy(model, x: hp, y: set.labels)))
        }
        var r = ProbeResult()
        r.arrays[ProbeOutput.filteredAccuracyBandwidth] = SensitivityProbe.vector(bs)
        r.arrays[ProbeOutput.filteredAccuracyLowpass] = SensitivityProbe.vector(low)
        r.arrays[ProbeOutput.filteredAccuracyHighpass] = SensitivityProbe.vector(high)
        return r
    }
}
