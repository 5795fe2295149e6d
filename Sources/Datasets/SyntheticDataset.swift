import Foundation
import TensorCore
import Trials

/// Band membership, in radius normalized to the Nyquist radius `min(H, W)/2` (the bands are defined with
/// `FrequencyBand`). The DC term never carries class evidence.
extension FrequencyBand {
    /// Whether the frequency `(ky, kx)` (signed, cycles per image) of an `h×w` image is in the band.
    public func contains(ky: Int, kx: Int, h: Int, w: Int) -> Bool {
        if ky == 0 && kx == 0 { return false }
        let r = Double(ky * ky + kx * kx).squareRoot() / (Double(min(h, w)) / 2)
        switch self {
        case .low: return r <= 0.25
        case .mid: return r > 0.25 && r <= 0.5
        case .high: return r > 0.5
        case .mixed: return true
        }
    }
}

/// The embedded default dataset: class-conditional images with natural-image spectra, where the
/// class evidence lives in a known frequency band, so training and every probe have a known answer.
///
/// ## Generative model
/// Let `f = sqrt(ky² + kx²)` be the radial frequency (cycles per image) and
/// `A(f) = f^(−α/2)` for `f > 0`, `A(0) = 0`, scaled so that `mean_f A(f)² = 1`. A *natural field* is
/// `IFFT_ortho(A · FFT_ortho(z))` with `z` white N(0, 1) noise: a stationary Gaussian field with unit
/// pixel variance and power spectrum `∝ 1/f^α` (α = 2 is the classic natural-image law).
///
/// - Class templates (fixed per dataset seed, shared by train and test): for class `k` and channel `c`,
///   `T[k,c] = IFFT_ortho(A · B · FFT_ortho(z_kc))`, where `B` weights the evidence band:
///   `B(f) = g_b` on the evidence band(s) and 0 elsewhere, with band gain `g_b = sqrt(M_ref / M_b)`
///   (`M_b` = number of frequencies in pure band `b` at this image size, `M_ref = 12`, the low band
///   of a 16-pixel image). Every pure band then carries the same whitened class evidence — as much as
///   12 frequencies at amplitude ratio `snr` — whatever the band and the image size, so `low`, `mid`
///   and `high` are about equally hard for an optimal linear reader; `mixed` (each frequency weighted
///   by the gain of the pure band it falls in) spreads the evidence evenly over the three, and the
///   part above the paper's hpf cutoff keeps the filtered copy learnable.
/// - Image of class `k` (independent draws per image):
///   `x_c = clip(0.5 + σ · (ρ·L + sqrt(1−ρ²)·N_c + snr·T[k,c]), 0, 1)`
///   with `L` (shared "luminance") and `N_c` (per-channel "colour") independent natural fields,
///   `σ = 0.15` (pixel contrast) and `ρ = 0.8` (channels correlate with coefficient ρ² = 0.64).
///
/// So `snr` sets the difficulty: it is the per-frequency amplitude ratio of class signal to background
/// in the low band of a 16-pixel image (`snr·g_b` in general). The class means differ only in the band,
/// and the background makes the task noisy but stationary. At the default `snr = 0.3`, measured on
/// 16px data with 1000 training images: nearest class mean ≈ 0.62 test accuracy (≈ 0.32 after hpf),
/// ridge regression ≈ 0.91 (≈ 0.5 after hpf); at 32px with 3000 images ridge reaches ≈ 0.89 (≈ 0.4
/// after hpf) — above chance, below perfect, and hpf harder than natural, as with CIFAR-10.
/// Clipping touches < 0.1% of pixels at the defaults. Labels cycle `0, 1, …, K−1, 0, …`, so every
/// prefix is class-balanced. Image `i` of a split draws from its own seeded stream, so the data
/// is bit-identical for a given (settings, seed) whatever the thread count.
public enum SyntheticDataset {
    /// Knobs of the generator (see the type's documentation for the model).
    public struct Spec: Sendable, Hashable, Codable {
        /// Image side in pixels (square images).
        public var imageSize: Int = 32
        /// Channels per image.
        public var channels: Int = 3
        /// Number of classes.
        public var classes: Int = 10
        /// Where the class evidence lives.
        public var band: FrequencyBand = .mixed
        /// Spectral exponent: power ∝ 1/f^α.
        public var alpha: Double = 2
        /// Class-evidence strength: per-frequency amplitude ratio `snr·g_b` in band `b` (see the type's documentation).
        public var snr: Double = SyntheticDataset.defaultSNR

        public init(imageSize: Int = 32, channels: Int = 3, classes: Int = 10, band: FrequencyBand = .mixed,
                    alpha: Double = 2, snr: Double = SyntheticDataset.defaultSNR) {
            self.imageSize = imageSize
            self.channels = channels
            self.classes = classes
            self.band = band
            self.alpha = alpha
            self.snr = snr
        }
    }

    /// Which split to draw; train and test use independent streams but the same class templates.
    public enum Split: String, Sendable { case train, test }

    /// Default `snr`: tuned so linear classifiers on 1000–3000 images are clearly above chance but not perfect.
    public static let defaultSNR: Double = 0.3
    /// `M_ref`: every pure band carries as much class evidence as this many frequencies at ratio `snr`
    /// (12 = the low band of a 16-pixel image).
    public static let referenceBandSize = 12
    /// Pixel standard deviation of the background before clipping.
    public static let contrast: Float = 0.15
    /// Weight of the shared luminance field in each channel.
    public static let luminance: Float = 0.8
    /// Largest image side generated.
    public static let maxImageSize = 1024
    /// Most float32 pixel bytes one generated split may take (4 GiB).
    public static let maxSplitBytes = 4 << 30

    /// Most images of `spec`'s size one split may hold within `maxSplitBytes`.
    public static func maxImages(_ spec: Spec) -> Int {
        let side = min(max(spec.imageSize, 1), maxImageSize)
        return maxSplitBytes / (4 * max(spec.channels, 1) * side * side)
    }

    /// The natural-spectrum amplitude envelope `A` on the half spectrum `[H, W/2+1]`, optionally band-limited.
    static func envelope(_ spec: Spec, band: FrequencyBand?) -> [Float] {
        let n = spec.imageSize, wc = n / 2 + 1
        var full = [Double](repeating: 0, count: n * n)
        var sumSq = 0.0
        for i in 0..<n {
            for j in 0..<n {
                let ky = signedFrequency(i, n), kx = signedFrequency(j, n)
                let f = Double(ky * ky + kx * kx).squareRoot()
                let a = f > 0 ? pow(f, -spec.alpha / 2) : 0
                full[i * n + j] = a
                sumSq += a * a
            }
        }
        let norm = sumSq > 0 ? (Double(n * n) / sumSq).squareRoot() : 0
        // Band gains: sqrt(M_ref / M_b), so each pure band carries the same whitened class evidence at every size.
        let pure: [FrequencyBand] = [.low, .mid, .high]
        var sizes = [FrequencyBand: Int]()
        for i in 0..<n {
            for j in 0..<n {
                for b in pure where b.contains(ky: signedFrequency(i, n), kx: signedFrequency(j, n), h: n, w: n) {
                    sizes[b, default: 0] += 1
                }
            }
        }
        let mRef = Double(SyntheticDataset.referenceBandSize)
        var half = [Float](repeating: 0, count: n * wc)
        for i in 0..<n {
            for j in 0..<wc {
                let ky = signedFrequency(i, n), kx = signedFrequency(j, n)
                var gain = 1.0
                if let band {
                    guard band.contains(ky: ky, kx: kx, h: n, w: n),
                          let own = pure.first(where: { $0.contains(ky: ky, kx: kx, h: n, w: n) }),
                          let m = sizes[own], m > 0 else { continue }
                    gain = (mRef / Double(m)).squareRoot()
                }
                half[i * wc + j] = Float(full[i * n + j] * norm * gain)
            }
        }
        return half
    }

    /// Shapes white noise in `planes` (`[B, H, W]`, in place) into natural fields with half-spectrum envelope `env`.
    static func shape(_ planes: UnsafeMutablePointer<Float>, batch: Int, n: Int, envelope env: [Float]) throws {
        let wc = n / 2 + 1
        let spec = UnsafeMutablePointer<Float>.allocate(capacity: 2 * batch * n * wc)
        defer { spec.deallocate() }
        let s = FFT.orthoScale(n, n)
        try FFT.forwardReal(planes, spec, batch: batch, h: n, w: n, scale: s)
        env.withUnsafeBufferPointer { e in
            for b in 0..<batch {
                let sp = spec + 2 * b * n * wc
                for k in 0..<(n * wc) {
                    sp[2 * k] *= e[k]
                    sp[2 * k + 1] *= e[k]
                }
            }
        }
        try FFT.inverseReal(spec, planes, batch: batch, h: n, w: n, scale: s)
    }

    /// Fills `p[0..<count]` with standard normal draws (Box–Muller, both outputs of each pair).
    static func fillNormal(_ p: UnsafeMutablePointer<Float>, count: Int, rng: inout SeededRNG) {
        var k = 0
        while k < count {
            let u1 = max(rng.uniformDouble(), 1e-300), u2 = rng.uniformDouble()
            let r = (-2 * Foundation.log(u1)).squareRoot(), a = 2 * Double.pi * u2
            p[k] = Float(r * Foundation.cos(a))
            if k + 1 < count { p[k + 1] = Float(r * Foundation.sin(a)) }
            k += 2
        }
    }

    /// The class templates `T` as `[K, C, H, W]` (zero-mean, band-limited, before `σ·snr` scaling).
    public static func templates(_ spec: Spec, seed: UInt64) throws -> Tensor {
        try validate(spec)
        let n = spec.imageSize
        var rng = SeededRNG(seed: SeededRNG.derive(seed, "synthetic.templates"))
        var t = Tensor(zeros: [spec.classes, spec.channels, n, n])
        let env = envelope(spec, band: spec.band)
        try t.data.withUnsafeMutableBufferPointer { p in
            guard let base = p.baseAddress else { return }  // empty only if a dimension is 0 (rejected by validate)
            fillNormal(base, count: p.count, rng: &rng)
            try shape(base, batch: spec.classes * spec.channels, n: n, envelope: env)
        }
        return t
    }

    /// Generates `count` labelled images of one split.
    public static func generate(_ spec: Spec, count: Int, split: Split, seed: UInt64) throws -> ImageSet {
        try validate(spec)
        guard count >= 0 else { throw DatasetError(.invalidArgument, "synthetic: count must be non-negative, got \(count)") }
        guard count <= maxImages(spec) else {
            throw DatasetError(.invalidArgument, "synthetic: \(count) images of \(spec.channels)×\(spec.imageSize)×\(spec.imageSize) exceed the \(maxSplitBytes >> 30) GiB a split may take (at most \(maxImages(spec)))")
        }
        let n = spec.imageSize, c = spec.channels, plane = n * n
        let tmpl = try templates(spec, seed: seed)
        let env = envelope(spec, band: nil)
        let splitSeed = SeededRNG.derive(seed, "synthetic.\(split.rawValue)")
        let labels = (0..<count).map { $0 % spec.classes }
        var images = Tensor(zeros: [count, c, n, n])
        let sigma = contrast, rho = luminance, rhoC = (1 - luminance * luminance).squareRoot()
        let amp = Float(spec.snr) * sigma
        let errors = ErrorSlot()
        // Warm the plans once so concurrent chunks only execute them.
        var probe = [Float](repeating: 0, count: plane)
        try probe.withUnsafeMutableBufferPointer { p in
            if let base = p.baseAddress { try shape(base, batch: 1, n: n, envelope: env) }
        }
        images.data.withUnsafeMutableBufferPointer { out in
            tmpl.data.withUnsafeBufferPointer { tp in
                guard let outBase = out.baseAddress, let tBase = tp.baseAddress else { return }  // count == 0
                Parallel.forChunks(count) { range in
                    let fields = UnsafeMutablePointer<Float>.allocate(capacity: (c + 1) * plane)
                    defer { fields.deallocate() }
                    for i in range {
                        var rng = SeededRNG(seed: splitSeed &+ UInt64(i) &* 0x9E37_79B9_7F4A_7C15)
                        fillNormal(fields, count: (c + 1) * plane, rng: &rng)
                        do {
                            try shape(fields, batch: c + 1, n: n, envelope: env)
                        } catch let e as TensorError {
                            errors.set(e)
                            return
                        } catch {
                            errors.set(DatasetError(.invalidArgument, "synthetic: \(error)"))
                            return
                        }
                        let lum = fields, t = tBase + labels[i] * c * plane
                        for ch in 0..<c {
                            let dst = outBase + (i * c + ch) * plane
                            let col = fields + (ch + 1) * plane, tc = t + ch * plane
                            for p in 0..<plane {
                                let v = 0.5 + sigma * (rho * lum[p] + rhoC * col[p]) + amp * tc[p]
                                dst[p] = min(max(v, 0), 1)
                            }
                        }
                    }
                }
            }
        }
        if let e = errors.error { throw DatasetError(.invalidArgument, "synthetic: FFT failed", cause: e) }
        return ImageSet(unchecked: images, labels: labels, classes: spec.classes)
    }

    static func validate(_ spec: Spec) throws {
        guard (2...maxImageSize).contains(spec.imageSize) else {
            throw DatasetError(.invalidSettings, "synthetic: image_size must be 2…\(maxImageSize), got \(spec.imageSize)", key: "image_size")
        }
        guard (1...64).contains(spec.channels) else { throw DatasetError(.invalidSettings, "synthetic: channels must be 1…64, got \(spec.channels)") }
        guard (2...10_000).contains(spec.classes) else { throw DatasetError(.invalidSettings, "synthetic: classes must be 2…10000, got \(spec.classes)") }
        guard 4 * spec.classes * spec.channels * spec.imageSize * spec.imageSize <= maxSplitBytes else {
            throw DatasetError(.invalidSettings, "synthetic: \(spec.classes) class templates of \(spec.channels)×\(spec.imageSize)×\(spec.imageSize) exceed \(maxSplitBytes >> 30) GiB")
        }
        guard spec.alpha.isFinite, spec.alpha >= 0 else { throw DatasetError(.invalidSettings, "synthetic: alpha must be finite and ≥ 0, got \(spec.alpha)") }
        guard spec.snr.isFinite, spec.snr >= 0 else { throw DatasetError(.invalidSettings, "synthetic: snr must be finite and ≥ 0, got \(spec.snr)") }
    }
}

/// First error raised inside a parallel loop.
/// `@unchecked Sendable` is safe: the only state is guarded by `lock`.
final class ErrorSlot: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any Error & Sendable)?
    func set(_ e: any Error & Sendable) { lock.lock(); if stored == nil { stored = e }; lock.unlock() }
    var error: (any Error & Sendable)? { lock.lock(); defer { lock.unlock() }; return stored }
}
